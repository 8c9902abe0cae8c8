#!/usr/bin/env python3
"""The table bench/gpu.sh prints last (markdown), from biofed_gpu_bench's JSON
and the tests' summary. usage: gpu_table.py GPU_BENCH.json TESTS.txt CUDA_KERNELS(ON|OFF)"""
import json
import sys


def load(path):
    with open(path) as f:
        data = json.load(f)
    rows = {}
    for b in data.get("benchmarks", []):
        if b.get("run_type") == "aggregate":
            continue
        name = "/".join(part for part in b["name"].split("/")
                        if part != "real_time" and not part.startswith("min_time:"))
        rows[name] = b
    return data.get("context", {}), rows


def rate(rows, name, counter):
    b = rows.get(name)
    if b is None or b.get("error_occurred"):
        return None, (b or {}).get("error_message", "not run")
    return b.get(counter), None


def ms(value):
    return f"{1000.0 / value:.3f}" if value else "n/a"


def main():
    bench_path, tests_path, kernels = sys.argv[1], sys.argv[2], sys.argv[3]
    context, rows = load(bench_path)
    out = []
    out.append(f"GPU run: {context.get('date', '?')}, host {context.get('host_name', '?')}, "
               f"WR kernels built: {kernels}")
    out.append("")
    out.append("Training step, ms (SGD; FL+WR+WS vs baseline; eager and CUDA graph):")
    out.append("")
    out.append("| model, batch | baseline eager | FL+WR+WS eager | ratio | baseline graph | FL+WR+WS graph | ratio |")
    out.append("|---|---|---|---|---|---|---|")
    for case, label in [(0, "MLP, b100 (28x28x1)"), (1, "ResNet20, b128 (32x32x3)"), (2, "ResNet56, b128 (32x32x3)")]:
        cells = []
        for graph in (0, 1):
            base, err_b = rate(rows, f"BM_GpuStep/{case}/0/{graph}", "steps_per_s")
            bio, err_m = rate(rows, f"BM_GpuStep/{case}/7/{graph}", "steps_per_s")
            cells += [ms(base), ms(bio), f"{base / bio:.2f}x" if base and bio else (err_b or err_m or "n/a")]
        out.append(f"| {label} | " + " | ".join(cells) + " |")
    out.append("")
    out.append("MLP b100 eager, per mechanism (ms): " + ", ".join(
        f"{name} {ms(rate(rows, f'BM_GpuStep/0/{mask}/0', 'steps_per_s')[0])}"
        for mask, name in [(0, "baseline"), (1, "FL"), (2, "WR"), (4, "WS"), (7, "FL+WR+WS")]))
    out.append("")
    out.append("WR pass alone over a model's weights (ms): " + ", ".join(
        f"{model} {how} {ms(rate(rows, f'BM_GpuRejuvenation/{k}/{c}', 'passes_per_s')[0])}"
        for c, model in [(0, "MLP"), (1, "ResNet20")] for k, how in [(0, "kernels"), (1, "tensor ops")]))
    out.append("")
    out.append("| Inverting Gradients, iterations/s | batch 1 | batch 8 | batch 1, cuDNN benchmark mode |")
    out.append("|---|---|---|---|")
    for arch, label in [(0, "MLP"), (1, "AlexNet"), (2, "ResNet20")]:
        cells = []
        for batch, mode in ((1, 0), (8, 0), (1, 1)):
            value, err = rate(rows, f"BM_GpuInvertingGradients/{arch}/{batch}/{mode}", "iterations_per_s")
            cells.append(f"{value:.1f}" if value else ("" if arch == 0 and mode else (err or "n/a")))
        out.append(f"| {label} | " + " | ".join(cells) + " |")
    out.append("")
    out.append("Tests:")
    with open(tests_path) as f:
        out += ["    " + line.rstrip() for line in f if line.strip()]
    print("\n".join(out))


if __name__ == "__main__":
    main()
