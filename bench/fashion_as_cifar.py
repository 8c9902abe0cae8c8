#!/usr/bin/env python3
"""Writes Fashion-MNIST as 32x32x3 images in the CIFAR-10 binary format.

  bench/fashion_as_cifar.py OUT [--fashion-dir DIR] [--train N] [--test N]

For the attack-strength search on 32x32x3 inputs (docs/attacks.md) on a
machine without CIFAR: each 28x28 image is padded to 32x32 and coloured, its
garment in one colour over a background that shades from a second colour to a
third left to right, the colours drawn per image from a seeded generator, so
the three channels differ and carry the garment's edges. OUT/cifar-10-batches-bin
gets data_batch_1..5.bin (the first N training images, split in five) and
test_batch.bin (the first N test images): `--dataset cifar10 --data-dir OUT`.
Not CIFAR's statistics or content; a stand-in with the same shape and format.
Standard library only.
"""
import argparse
import gzip
import os
import random
import struct
import sys


def read_idx(path, kind):
    with gzip.open(path, "rb") as f:
        data = f.read()
    magic, count = struct.unpack(">II", data[:8])
    if kind == "images":
        if magic != 2051:
            sys.exit(f"{path}: not an idx image file")
        rows, cols = struct.unpack(">II", data[8:16])
        size = rows * cols
        return [data[16 + i * size:16 + (i + 1) * size] for i in range(count)], rows, cols
    if magic != 2049:
        sys.exit(f"{path}: not an idx label file")
    return list(data[8:8 + count])


def colour_record(index, label, pixels, rows, cols, seed):
    rng = random.Random(seed * 1_000_003 + index)
    garment = [rng.randint(40, 255) for _ in range(3)]
    left = [rng.randint(0, 160) for _ in range(3)]
    right = [rng.randint(0, 160) for _ in range(3)]
    pad_y, pad_x = (32 - rows) // 2, (32 - cols) // 2
    out = bytearray([label])
    for c in range(3):
        for y in range(32):
            for x in range(32):
                t = x / 31
                background = left[c] * (1 - t) + right[c] * t
                sy, sx = y - pad_y, x - pad_x
                alpha = pixels[sy * cols + sx] / 255 if 0 <= sy < rows and 0 <= sx < cols else 0.0
                out.append(int(round(background * (1 - alpha) + garment[c] * alpha)))
    return bytes(out)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out")
    parser.add_argument("--fashion-dir", default="/usr/share/datasets/fashion-mnist")
    parser.add_argument("--train", type=int, default=5000, help="training images (a multiple of 5)")
    parser.add_argument("--test", type=int, default=1000, help="test images")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    if args.train < 5 or args.train % 5 or args.test < 1:
        sys.exit("--train must be a positive multiple of 5, --test positive")
    target = os.path.join(args.out, "cifar-10-batches-bin")
    os.makedirs(target, exist_ok=True)
    for split, count, files in (("train", args.train, [f"data_batch_{i}.bin" for i in range(1, 6)]),
                                ("t10k", args.test, ["test_batch.bin"])):
        images, rows, cols = read_idx(os.path.join(args.fashion_dir, f"{split}-images-idx3-ubyte.gz"), "images")
        labels = read_idx(os.path.join(args.fashion_dir, f"{split}-labels-idx1-ubyte.gz"), "labels")
        if count > len(images):
            sys.exit(f"{split}: only {len(images)} images")
        per_file = count // len(files)
        for k, name in enumerate(files):
            path = os.path.join(target, name)
            with open(path + ".tmp", "wb") as f:
                for i in range(k * per_file, (k + 1) * per_file):
                    offset = 0 if split == "train" else 10_000_000
                    f.write(colour_record(offset + i, labels[i], images[i], rows, cols, args.seed))
            os.replace(path + ".tmp", path)
            print(f"{path}: {per_file} images", file=sys.stderr)


if __name__ == "__main__":
    main()
