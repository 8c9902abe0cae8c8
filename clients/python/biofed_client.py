#!/usr/bin/env python3
"""A reference biofed federation client in Python: gRPC, numpy, nothing else.

Written from proto/biofed/v1/federation.proto and docs/federation.md ("Writing
a client in another language"). The whole protocol, in the order a client
meets it:

    stub.Join()                      -> client id, model spec (JSON), dataset
    loop:
      stub.PullTask(client_id)       -> train | wait (sleep retry_after_ms) | finish
      stub.FetchModel(version)       -> header (tensor specs), then chunks
      train locally (numpy MLP, SGD) -> pseudo-gradient (w_global - w_local) / lr
      stub.SubmitUpdate(chunks)      -> header, chunks, [audit manifest], trailer

Every call carries "authorization: Bearer <token>". Tensors travel as raw
little-endian bytes in chunks of at most 1 MiB; the chunk that ends a tensor
carries the CRC-32C of all its bytes.

The Python stubs are generated when the client starts, with the system protoc
and grpc_python_plugin (Debian: protobuf-compiler, protobuf-compiler-grpc).
"""

import argparse
import gzip
import importlib
import json
import os
import struct
import subprocess
import sys
import tempfile
import threading
import time

import grpc
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_PROTO_DIR = os.path.join(HERE, "..", "..", "proto")
CHUNK_BYTES = 1 << 20  # what the C++ sides send; the server takes up to 4 MiB per message

pb = None  # biofed.v1.federation_pb2, set by load_stubs()
pb_grpc = None  # biofed.v1.federation_pb2_grpc


class ProtocolError(Exception):
    """A stream from the server that breaks the protocol."""


# ---------------------------------------------------------------------------
# Generated stubs


def load_stubs(proto_dir=DEFAULT_PROTO_DIR):
    """Generates the Python stubs of federation.proto and imports them.

    Uses the system protoc (3.21 on Debian 12), not grpc_tools' bundled one,
    which is too old for the proto's `optional` field.
    """
    global pb, pb_grpc
    if pb is not None:
        return
    with tempfile.TemporaryDirectory(prefix="biofed-stubs-") as out_dir:
        command = [
            "protoc", "-I", proto_dir, "--python_out", out_dir, "--grpc_out", out_dir,
            "--plugin=protoc-gen-grpc=/usr/bin/grpc_python_plugin",
            os.path.join(proto_dir, "biofed", "v1", "federation.proto"),
        ]
        result = subprocess.run(command, capture_output=True, text=True)
        if result.returncode != 0:
            raise RuntimeError(f"protoc failed ({' '.join(command)}): {result.stderr.strip()}")
        sys.path.insert(0, out_dir)
        pb = importlib.import_module("biofed.v1.federation_pb2")
        pb_grpc = importlib.import_module("biofed.v1.federation_pb2_grpc")
        sys.path.remove(out_dir)  # both are loaded; the files can go


# ---------------------------------------------------------------------------
# CRC-32C (Castagnoli): reflected polynomial 0x82F63B78, init and final XOR
# 0xFFFFFFFF, as in iSCSI and ext4. crc32c(b"123456789") == 0xE3069283.

CRC32C_POLYNOMIAL = 0x82F63B78


def _crc_table():
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ CRC32C_POLYNOMIAL if c & 1 else c >> 1
        table.append(c)
    return table


CRC_TABLE = _crc_table()
_NP_TABLE = np.array(CRC_TABLE, dtype=np.uint32)


def crc32c_reference(data, crc=0):
    """CRC-32C of `data`, continuing from `crc` (the value over earlier bytes).

    One table lookup per byte: the definition, and slow in Python.
    """
    r = crc ^ 0xFFFFFFFF
    for b in bytes(data):
        r = CRC_TABLE[(r ^ b) & 0xFF] ^ (r >> 8)
    return r ^ 0xFFFFFFFF


def _advance_zeros_tables(n):
    """Tables that advance a raw CRC register over `n` zero bytes.

    The raw register is linear over GF(2): register after (A then B) equals
    register after A advanced over len(B) zero bytes, XOR register of B
    started from 0. Advancing is a linear map, so it is four 256-entry tables.
    """
    basis = np.array([1 << bit for bit in range(32)], dtype=np.uint32)
    for _ in range(n):
        basis = _NP_TABLE[basis & 0xFF] ^ (basis >> 8)
    tables = np.zeros((4, 256), dtype=np.uint32)
    values = np.arange(256)
    for byte in range(4):
        for bit in range(8):
            has_bit = (values >> bit) & 1 == 1
            tables[byte, has_bit] ^= basis[byte * 8 + bit]
    return tables


def crc32c(data, crc=0, lanes=1024):
    """CRC-32C of `data` as crc32c_reference computes it, fast enough for tensors.

    Splits the bytes into `lanes` equal blocks whose registers numpy advances
    side by side, then joins the blocks' registers in order.
    """
    view = np.frombuffer(memoryview(data).cast("B"), dtype=np.uint8)
    n = view.size
    length = n // lanes
    if length < 64:
        return crc32c_reference(view.tobytes(), crc)
    blocks = view[: lanes * length].reshape(lanes, length).T  # [byte in block, lane]
    registers = np.zeros(lanes, dtype=np.uint32)
    registers[0] = crc ^ 0xFFFFFFFF
    for column in blocks:
        registers = _NP_TABLE[(registers ^ column) & 0xFF] ^ (registers >> 8)
    advance = _advance_zeros_tables(length)
    r = int(registers[0])
    for lane_register in registers[1:].tolist():
        r = int(advance[0, r & 0xFF] ^ advance[1, (r >> 8) & 0xFF] ^ advance[2, (r >> 16) & 0xFF]
                ^ advance[3, r >> 24]) ^ lane_register
    return crc32c_reference(view[lanes * length:].tobytes(), r ^ 0xFFFFFFFF)


# ---------------------------------------------------------------------------
# Tensor codec: declarations up front, then chunks of raw little-endian bytes.

NUMPY_DTYPES = {1: "<f4", 2: "<f8", 3: "<i8", 4: "<i4", 5: "u1"}  # DType enum -> numpy
WIRE_DTYPES = {np.dtype(v): k for k, v in NUMPY_DTYPES.items()}  # numpy -> DType enum


def tensor_spec(name, array, role):
    """The TensorSpec declaring `array` (role: pb.ROLE_PARAMETER or pb.ROLE_BUFFER)."""
    return pb.TensorSpec(name=name, dtype=WIRE_DTYPES[array.dtype.newbyteorder("<")], shape=list(array.shape),
                         role=role)


def tensor_chunks(arrays, chunk_bytes=CHUNK_BYTES):
    """Yields TensorData chunks of `arrays` (in the order of their declarations).

    A tensor's chunks are consecutive; the last carries the CRC-32C of all
    its bytes. A tensor of no bytes has no chunk.
    """
    for index, array in enumerate(arrays):
        raw = np.ascontiguousarray(array, dtype=array.dtype.newbyteorder("<")).tobytes()
        crc = 0
        for offset in range(0, len(raw), chunk_bytes):
            payload = raw[offset: offset + chunk_bytes]
            crc = crc32c(payload, crc)
            data = pb.TensorData(tensor_index=index, offset=offset, payload=payload)
            if offset + len(payload) == len(raw):
                data.tensor_crc32c = crc
            yield data


class TensorAssembler:
    """Rebuilds the tensors declared by `specs` from their chunks.

    `tensor_index` refers to the position in `specs`; chunks of different
    tensors may interleave, those of one tensor arrive in order.
    """

    def __init__(self, specs):
        self.specs = list(specs)
        self.buffers = []
        for spec in self.specs:
            if spec.dtype not in NUMPY_DTYPES:
                raise ProtocolError(f"tensor '{spec.name}': unknown dtype {spec.dtype}")
            size = int(np.prod(spec.shape, dtype=np.int64)) * np.dtype(NUMPY_DTYPES[spec.dtype]).itemsize
            self.buffers.append(bytearray(size))
        self.received = [0] * len(self.specs)
        self.crcs = [0] * len(self.specs)
        self.total_bytes = 0

    def add(self, data):
        if data.tensor_index >= len(self.specs):
            raise ProtocolError(f"chunk for tensor index {data.tensor_index} of {len(self.specs)}")
        i = data.tensor_index
        name, buffer, start = self.specs[i].name, self.buffers[i], self.received[i]
        if data.offset != start:
            raise ProtocolError(f"chunk of '{name}' at offset {data.offset}, expected {start}")
        end = start + len(data.payload)
        if end > len(buffer):
            raise ProtocolError(f"'{name}' gets more than its {len(buffer)} bytes")
        buffer[start:end] = data.payload
        self.crcs[i] = crc32c(data.payload, self.crcs[i])
        self.received[i] = end
        self.total_bytes += len(data.payload)
        ends = end == len(buffer)
        if data.HasField("tensor_crc32c") != ends:
            raise ProtocolError(f"'{name}': a checksum must be on the chunk that ends the tensor, and only there")
        if ends and data.tensor_crc32c != self.crcs[i]:
            raise ProtocolError(f"checksum mismatch in tensor '{name}'")

    def finish(self):
        """The tensors by name, as numpy arrays in native byte order."""
        tensors = {}
        for spec, buffer, received in zip(self.specs, self.buffers, self.received):
            if received != len(buffer):
                raise ProtocolError(f"truncated: '{spec.name}' has {received} of {len(buffer)} bytes")
            array = np.frombuffer(bytes(buffer), dtype=NUMPY_DTYPES[spec.dtype]).reshape(tuple(spec.shape))
            tensors[spec.name] = array.astype(array.dtype.newbyteorder("="))
        return tensors


# ---------------------------------------------------------------------------
# The MLP of models/mlp.cc: flatten, then fc1..fcN (torch.nn.Linear layout:
# weight [out, in], bias [out]), ReLU after every layer but the classifier.
# With weight splitting (split_gamma > 1) every hidden layer sums its output
# rows in blocks of Gamma and repeats each sum Gamma times.


def layer_names(model):
    """fc1, fc2, ...: the model's Linear layers in order."""
    names = []
    while f"fc{len(names) + 1}.weight" in model:
        names.append(f"fc{len(names) + 1}")
    if not names or len(model) != 2 * len(names):
        raise ProtocolError(f"not the biofed MLP: tensors {sorted(model)}")
    return names


def _block_sum(t, gamma):
    return t.reshape(t.shape[0] // gamma, gamma, *t.shape[1:]).sum(axis=1)


def mlp_forward(model, x, gamma=0):
    """Logits of the MLP for x [B, features], and each layer's input."""
    names = layer_names(model)
    inputs, h = [], x
    for i, name in enumerate(names):
        w, b = model[name + ".weight"], model[name + ".bias"]
        split = gamma > 1 and i + 1 < len(names)
        if split:
            w, b = _block_sum(w, gamma), _block_sum(b, gamma)
        z = h @ w.T + b
        if split:
            z = np.repeat(z, gamma, axis=1)
        inputs.append(h)
        h = np.maximum(z, 0) if i + 1 < len(names) else z
    return h, inputs


def mlp_loss_and_gradients(model, x, y, gamma=0):
    """Mean cross-entropy of the MLP on (x [B, features], y [B]), the number
    of correct predictions, and the loss's gradients by parameter name."""
    names = layer_names(model)
    logits, activations = mlp_forward(model, x, gamma)
    logits = logits - logits.max(axis=1, keepdims=True)
    log_probs = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    rows = np.arange(len(y))
    loss = float(-log_probs[rows, y].mean())
    correct = int((log_probs.argmax(axis=1) == y).sum())

    grads = {}
    dz = np.exp(log_probs)
    dz[rows, y] -= 1
    dz /= len(y)
    for i in reversed(range(len(names))):
        name, h = names[i], activations[i]
        split = gamma > 1 and i + 1 < len(names)
        w = model[name + ".weight"]
        if split:  # every raw row of a block gets the block's gradient
            dz = _block_sum(dz.T, gamma).T
            w = _block_sum(w, gamma)
        dw, db = dz.T @ h, dz.sum(axis=0)
        if split:
            dw, db = np.repeat(dw, gamma, axis=0), np.repeat(db, gamma)
        grads[name + ".weight"], grads[name + ".bias"] = dw.astype(np.float32), db.astype(np.float32)
        if i > 0:
            dz = (dz @ w) * (activations[i] > 0)
    return loss, correct, grads


# ---------------------------------------------------------------------------
# Data: the IDX files of (Fashion-)MNIST, normalised like the server does.


def read_idx(path):
    with gzip.open(path, "rb") if path.endswith(".gz") else open(path, "rb") as f:
        raw = f.read()
    magic, = struct.unpack(">I", raw[:4])
    dims = struct.unpack(">" + "I" * (magic & 0xFF), raw[4: 4 + 4 * (magic & 0xFF)])
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * len(dims)).reshape(dims)


def load_split(data_dir, prefix):
    """Images as uint8 [N, H*W] and labels [N] of one split ("train", "t10k")."""
    def find(stem):
        for name in (stem + ".gz", stem):
            if os.path.exists(os.path.join(data_dir, name)):
                return os.path.join(data_dir, name)
        raise FileNotFoundError(f"{stem}[.gz] not found in {data_dir}")
    images = read_idx(find(prefix + "-images-idx3-ubyte"))
    labels = read_idx(find(prefix + "-labels-idx1-ubyte")).astype(np.int64)
    return images.reshape(len(images), -1), labels


def normalization(train_images):
    """(mean, std) of the training split's pixels scaled to [0, 1], the
    population std: what the server and the C++ client normalise with."""
    pixels = train_images.astype(np.float64) / 255.0
    return pixels.mean(), max(pixels.std(), 1e-12)


class LocalData:
    """A split, its normalisation, and the indices this client may use."""

    def __init__(self, images, labels, norm, indices=None):
        self.images, self.labels, self.norm = images, labels, norm
        self.indices = np.arange(len(labels)) if indices is None else indices

    def batch(self, idx):
        mean, std = self.norm
        x = ((self.images[idx].astype(np.float32) / 255.0 - mean) / std).astype(np.float32)
        return x, self.labels[idx]


def partition(n, num_partitions, index, seed):
    """An IID share of n samples: every num_partitions-th of a seeded permutation."""
    return np.sort(np.random.default_rng(seed).permutation(n)[index::num_partitions])


# ---------------------------------------------------------------------------
# Local training: what the update of one round is.


def train_round(global_model, task, data, gamma, seed):
    """Trains a copy of `global_model` as `task` says (FedSGD: one step on one
    batch; FedAvg: local_epochs epochs) with plain SGD at the task's lr.

    Returns (pseudo-gradients by name, header fields)."""
    model = {name: t.astype(np.float32).copy() for name, t in global_model.items()}
    n = len(data.indices)
    batch = n if task.batch_size == 0 else min(task.batch_size, n)
    epochs = 1 if task.mode == pb.MODE_FEDSGD else task.local_epochs
    rng = np.random.default_rng([seed, task.round])
    steps, seen, loss_sum, correct_sum, used = 0, 0, 0.0, 0, []
    for _ in range(epochs):
        order = data.indices[rng.permutation(n)]
        for begin in range(0, n, batch):
            idx = order[begin: begin + batch]
            x, y = data.batch(idx)
            loss, correct, grads = mlp_loss_and_gradients(model, x, y, gamma)
            for name, g in grads.items():
                model[name] -= np.float32(task.lr) * g
            steps, seen = steps + 1, seen + len(idx)
            loss_sum, correct_sum = loss_sum + loss * len(idx), correct_sum + correct
            used.extend(idx.tolist())
            if task.mode == pb.MODE_FEDSGD:
                break
    update = {name: (global_model[name] - model[name]) / np.float32(task.lr) for name in model}
    info = dict(num_examples=seen, local_steps=steps, batch_size=batch, sample_indices=used,
                metrics={"train_loss": loss_sum / seen, "train_accuracy": correct_sum / seen})
    return update, info


# ---------------------------------------------------------------------------
# The federation client.


class Refused(Exception):
    """A call the server refused: carries the gRPC status."""

    def __init__(self, call, error):
        self.call, self.code, self.details = call, error.code(), error.details()
        super().__init__(f"{call} refused: {self.code.name}: {self.details}")


def log(message):
    print(f"biofed_client: {message}", file=sys.stderr, flush=True)


class FederationClient:
    def __init__(self, args):
        self.args = args
        with open(args.token_file) as f:
            self.metadata = (("authorization", "Bearer " + f.read().strip()),)
        self.channel, self.stub = None, None
        self.client_id = None
        self.model_version, self.model = None, None
        self.connect()

    def connect(self):
        """A new channel and stub (a channel whose first attempts found no
        server can take up to 20 s to notice one that has since started)."""
        if self.channel is not None:
            self.channel.close()
        if self.args.insecure:
            self.channel = grpc.insecure_channel(self.args.server)
        else:
            def read(path):
                with open(path, "rb") as f:
                    return f.read()
            # With --cert and --key the client presents a certificate (servers run with --client-ca).
            credentials = grpc.ssl_channel_credentials(
                root_certificates=read(self.args.ca), private_key=read(self.args.key) if self.args.key else None,
                certificate_chain=read(self.args.cert) if self.args.cert else None)
            self.channel = grpc.secure_channel(self.args.server, credentials)
        self.stub = pb_grpc.FederationStub(self.channel)

    def retry(self, name, attempt):
        """attempt(stub), retried while the server is unavailable (or cancels
        calls while shutting down) for up to --max-unavailable-s; any other
        failure raises Refused with its status."""
        retryable = (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.CANCELLED)
        deadline, backoff = time.monotonic() + self.args.max_unavailable_s, 0.1
        while True:
            try:
                return attempt(self.stub)
            except grpc.RpcError as error:
                if error.code() not in retryable or time.monotonic() > deadline:
                    raise Refused(name, error) from None
            time.sleep(backoff)
            backoff = min(backoff * 2, 2.0)
            self.connect()

    def call(self, name, request, timeout=30):
        """The unary call `name`, with retries."""
        return self.retry(name, lambda stub: getattr(stub, name)(request, metadata=self.metadata, timeout=timeout))

    def join(self):
        reply = self.call("Join", pb.JoinRequest())
        self.client_id, self.join_reply = reply.client_id, reply
        spec = json.loads(reply.model_spec_json)
        if spec["architecture"] != "mlp":
            raise SystemExit(f"biofed_client: this client trains only the MLP; the server runs {spec['architecture']}")
        self.gamma = int(spec["split_gamma"])
        log(f"joined run '{reply.run_id}' as '{reply.client_id}' ({reply.dataset}, {reply.model_spec_json})")
        return reply

    def heartbeat_forever(self, interval_s):
        while True:
            time.sleep(interval_s)
            try:
                self.stub.Heartbeat(pb.HeartbeatRequest(client_id=self.client_id), metadata=self.metadata, timeout=5)
            except grpc.RpcError:
                pass  # the next PullTask reports what is wrong

    def fetch_model(self, version):
        """Model `version` as numpy arrays by name (the last one is cached)."""
        if version != self.model_version:
            self.model = self.retry("FetchModel", lambda stub: self.read_model(stub, version))
            self.model_version = version
        return self.model

    def read_model(self, stub, version):
        assembler = None
        for chunk in stub.FetchModel(pb.FetchModelRequest(version=version), metadata=self.metadata, timeout=60):
            if chunk.HasField("header"):
                if assembler is not None:
                    raise ProtocolError("model stream with two headers")
                assembler = TensorAssembler(chunk.header.tensors)
            elif assembler is None:
                raise ProtocolError("model data before its header")
            else:
                assembler.add(chunk.data)
        if assembler is None:
            raise ProtocolError("empty model stream")
        return assembler.finish()

    def update_chunks(self, task, update, info):
        names = list(update)
        arrays = [update[name].astype(np.float32) for name in names]
        header = pb.UpdateHeader(
            client_id=self.client_id, round=task.round, model_version=task.model_version,
            num_examples=info["num_examples"], metrics=info["metrics"],
            tensors=[tensor_spec(name, a, pb.ROLE_PARAMETER) for name, a in zip(names, arrays)],
            shared_kind=pb.SHARED_PSEUDO_GRADIENT, lr=task.lr, local_steps=info["local_steps"],
            batch_size=info["batch_size"], batchnorm_train_mode=True)
        yield pb.UpdateChunk(header=header)
        total = 0
        for data in tensor_chunks(arrays):
            total += len(data.payload)
            yield pb.UpdateChunk(data=data)
        if self.join_reply.collect_audit_manifests:  # testbed mode only
            yield pb.UpdateChunk(audit=pb.AuditManifest(
                dataset=self.join_reply.dataset, split="train", batch_size=info["batch_size"],
                sample_indices=info["sample_indices"], client_seed=self.args.seed, biomod="none"))
        yield pb.UpdateChunk(trailer=pb.UpdateTrailer(total_bytes=total))

    def run_round(self, task, data):
        model = self.fetch_model(task.model_version)
        update, info = train_round(model, task, data, self.gamma, self.args.seed)
        reply = self.retry("SubmitUpdate", lambda stub: stub.SubmitUpdate(
            self.update_chunks(task, update, info), metadata=self.metadata, timeout=60))
        log(f"round {task.round}: update accepted={reply.accepted} ({info['num_examples']} examples, "
            f"train loss {info['metrics']['train_loss']:.4f})")

    def run(self, data):
        """Serves tasks, after join(), until the federation finishes; returns
        the number of rounds completed."""
        interval_s = max(self.join_reply.heartbeat_interval_ms, 100) / 1000
        threading.Thread(target=self.heartbeat_forever, args=(interval_s,), daemon=True).start()
        while True:
            try:
                task = self.call("PullTask", pb.PullTaskRequest(client_id=self.client_id))
            except Refused as refused:
                if refused.code != grpc.StatusCode.NOT_FOUND:
                    raise
                log(f"the server does not know this client (restarted?): joining again ({refused.details})")
                self.join()
                continue
            kind = task.WhichOneof("kind")
            if kind == "finish":
                log(f"federation finished after {task.finish.rounds_completed} rounds")
                return task.finish.rounds_completed
            if kind == "wait":
                time.sleep(max(task.wait.retry_after_ms, 10) / 1000)
                continue
            try:
                self.run_round(task.train, data)
            except Refused as refused:
                # The round moved on (deadline, restart), or a retried update
                # had arrived after all: pull the next task. Anything else is
                # a fault this client cannot mend by trying again.
                if refused.code not in (grpc.StatusCode.FAILED_PRECONDITION,
                                        grpc.StatusCode.ALREADY_EXISTS):
                    raise
                log(f"round {task.train.round}: {refused}")


def parse_args(argv):
    p = argparse.ArgumentParser(
        description="A biofed federation client in Python: joins, trains the MLP in numpy, submits updates.")
    p.add_argument("--server", required=True, help="host:port of the biofed server")
    p.add_argument("--ca", help="PEM CA certificate the server's certificate is checked against")
    p.add_argument("--cert", help="PEM certificate of this client, for mutual TLS (with --key)")
    p.add_argument("--key", help="PEM private key of this client, for mutual TLS (with --cert)")
    p.add_argument("--insecure", action="store_true", help="plain TCP without TLS (the token travels in clear)")
    p.add_argument("--token-file", required=True, help="file holding this client's bearer token")
    p.add_argument("--data-dir", help="directory of the dataset's IDX files (default /usr/share/datasets/<dataset>)")
    p.add_argument("--num-partitions", type=int, default=1, help="the training split is cut into this many IID parts")
    p.add_argument("--partition-index", type=int, default=0, help="which part this client trains on")
    p.add_argument("--seed", type=int, default=0, help="the client's private seed (partition, batch order)")
    p.add_argument("--max-unavailable-s", type=float, default=60, help="give up after the server is gone this long")
    p.add_argument("--evaluate", action="store_true",
                   help="at the end, print the final model's accuracy on the test split, computed here")
    p.add_argument("--proto-dir", default=DEFAULT_PROTO_DIR, help="directory holding biofed/v1/federation.proto")
    args = p.parse_args(argv)
    if not args.insecure and not args.ca:
        p.error("--ca is required unless --insecure")
    if bool(args.cert) != bool(args.key):
        p.error("--cert and --key go together")
    if not 0 <= args.partition_index < args.num_partitions:
        p.error("--partition-index must be in [0, --num-partitions)")
    return args


def main(argv=None):
    args = parse_args(argv)
    load_stubs(args.proto_dir)
    client = FederationClient(args)
    try:
        client.join()
        dataset = client.join_reply.dataset
        if dataset not in ("fashion-mnist", "mnist"):
            raise SystemExit(f"biofed_client: this client reads only (Fashion-)MNIST; the server runs {dataset}")
        data_dir = args.data_dir or f"/usr/share/datasets/{dataset}"
        images, labels = load_split(data_dir, "train")
        norm = normalization(images)
        indices = partition(len(labels), args.num_partitions, args.partition_index, args.seed)
        rounds = client.run(LocalData(images, labels, norm, indices))
        if args.evaluate:
            test = LocalData(*load_split(data_dir, "t10k"), norm)
            x, y = test.batch(test.indices)
            logits, _ = mlp_forward(client.fetch_model(rounds), x, client.gamma)
            print(f"test accuracy {(logits.argmax(axis=1) == y).mean():.4f} of model version {rounds}")
    except Refused as refused:
        log(str(refused))
        return 1
    except ProtocolError as error:
        log(f"protocol error: {error}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
