"""Unit tests of the Python client's pieces: CRC-32C, the tensor codec, the
numpy MLP. Run: python3 -m unittest discover -s clients/python"""

import os
import sys
import unittest

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import biofed_client as bc  # noqa: E402

bc.load_stubs()


class Crc32cTest(unittest.TestCase):
    def test_check_value(self):
        # The standard check value of CRC-32C (iSCSI, RFC 3720).
        self.assertEqual(bc.crc32c_reference(b"123456789"), 0xE3069283)
        self.assertEqual(bc.crc32c(b"123456789"), 0xE3069283)

    def test_known_vectors(self):
        # RFC 3720, B.4: 32 bytes of zeros, of 0xFF, and ascending 0..31.
        self.assertEqual(bc.crc32c(bytes(32)), 0x8A9136AA)
        self.assertEqual(bc.crc32c(b"\xff" * 32), 0x62A8AB43)
        self.assertEqual(bc.crc32c(bytes(range(32))), 0x46DD794E)

    def test_fast_equals_reference_and_continues(self):
        rng = np.random.default_rng(1)
        for n in (0, 1, 63, 64 * 1024 - 1, 64 * 1024, 200_003):
            data = rng.integers(0, 256, n, dtype=np.uint8).tobytes()
            whole = bc.crc32c_reference(data)
            self.assertEqual(bc.crc32c(data), whole, n)
            cut = n // 3
            self.assertEqual(bc.crc32c(data[cut:], bc.crc32c(data[:cut])), whole, n)


def assemble(specs, chunks):
    assembler = bc.TensorAssembler(specs)
    for data in chunks:
        assembler.add(data)
    return assembler.finish()


class TensorCodecTest(unittest.TestCase):
    def setUp(self):
        rng = np.random.default_rng(0)
        self.tensors = {
            "fc1.weight": rng.standard_normal((30, 17)).astype(np.float32),
            "fc1.bias": rng.standard_normal(30).astype(np.float32),
            "empty": np.zeros((0, 4), dtype=np.float32),
            "steps": np.arange(7, dtype=np.int64),
        }
        self.specs = [bc.tensor_spec(name, t, bc.pb.ROLE_PARAMETER) for name, t in self.tensors.items()]

    def chunks(self, chunk_bytes=100):
        return list(bc.tensor_chunks(list(self.tensors.values()), chunk_bytes))

    def test_round_trip(self):
        chunks = self.chunks()
        self.assertEqual(sum(len(c.payload) for c in chunks), sum(t.nbytes for t in self.tensors.values()))
        self.assertTrue(all(len(c.payload) <= 100 for c in chunks))
        decoded = assemble(self.specs, chunks)
        for name, t in self.tensors.items():
            np.testing.assert_array_equal(decoded[name], t)
            self.assertEqual(decoded[name].dtype, t.dtype)

    def test_chunks_survive_protobuf_and_little_endian_bytes(self):
        chunks = [bc.pb.TensorData.FromString(c.SerializeToString()) for c in self.chunks()]
        weight = b"".join(c.payload for c in chunks if c.tensor_index == 0)
        self.assertEqual(weight, self.tensors["fc1.weight"].astype("<f4").tobytes())
        self.assertEqual([c.HasField("tensor_crc32c") for c in chunks if c.tensor_index == 0], [False] * 20 + [True])
        self.assertEqual(chunks[20].tensor_crc32c, bc.crc32c_reference(weight))

    def test_tensors_may_interleave(self):
        chunks = self.chunks()
        by_tensor = [[c for c in chunks if c.tensor_index == i] for i in range(len(self.specs))]
        interleaved = [c for group in zip(*[g + [None] * (21 - len(g)) for g in reversed(by_tensor)])
                       for c in group if c is not None]
        decoded = assemble(self.specs, interleaved)
        np.testing.assert_array_equal(decoded["fc1.bias"], self.tensors["fc1.bias"])

    def test_refuses_a_wrong_checksum(self):
        chunks = self.chunks()
        chunks[20].tensor_crc32c ^= 1
        with self.assertRaisesRegex(bc.ProtocolError, "checksum mismatch in tensor 'fc1.weight'"):
            assemble(self.specs, chunks)

    def test_refuses_a_checksum_before_the_end(self):
        chunks = self.chunks()
        chunks[0].tensor_crc32c = 0
        with self.assertRaisesRegex(bc.ProtocolError, "checksum must be on the chunk that ends"):
            assemble(self.specs, chunks)

    def test_refuses_chunks_out_of_order_and_truncation(self):
        chunks = self.chunks()
        with self.assertRaisesRegex(bc.ProtocolError, "at offset 100, expected 0"):
            assemble(self.specs, chunks[1:])
        with self.assertRaisesRegex(bc.ProtocolError, "truncated"):
            assemble(self.specs, [c for c in chunks if c.tensor_index != 1])


class MlpTest(unittest.TestCase):
    """Gradients against central finite differences, in float64."""

    def check_gradients(self, gamma):
        rng = np.random.default_rng(2)
        model = {"fc1.weight": rng.standard_normal((6, 5)), "fc1.bias": rng.standard_normal(6),
                 "fc2.weight": rng.standard_normal((4, 6)), "fc2.bias": rng.standard_normal(4),
                 "fc3.weight": rng.standard_normal((3, 4)), "fc3.bias": rng.standard_normal(3)}
        x, y = rng.standard_normal((8, 5)), rng.integers(0, 3, 8)
        _, _, grads = bc.mlp_loss_and_gradients(model, x, y, gamma)
        eps = 1e-6
        for name, w in model.items():
            numeric = np.zeros_like(w)
            for i in np.ndindex(w.shape):
                saved = w[i]
                w[i] = saved + eps
                plus = bc.mlp_loss_and_gradients(model, x, y, gamma)[0]
                w[i] = saved - eps
                minus = bc.mlp_loss_and_gradients(model, x, y, gamma)[0]
                w[i] = saved
                numeric[i] = (plus - minus) / (2 * eps)
            np.testing.assert_allclose(grads[name], numeric, rtol=1e-4, atol=1e-5, err_msg=name)

    def test_gradients(self):
        self.check_gradients(gamma=0)

    def test_gradients_with_weight_splitting(self):
        self.check_gradients(gamma=2)

    def test_weight_splitting_sums_blocks_of_outputs(self):
        # [a, b, c, d] -> [a+b, a+b, c+d, c+d] on the hidden layer, by hand.
        model = {"fc1.weight": np.array([[1.0], [2.0], [3.0], [-5.0]]), "fc1.bias": np.array([0.5, 0.0, 0.0, 1.0]),
                 "fc2.weight": np.eye(4), "fc2.bias": np.zeros(4)}
        logits, _ = bc.mlp_forward(model, np.array([[1.0]]), gamma=2)
        np.testing.assert_allclose(logits, [[3.5, 3.5, 0.0, 0.0]])  # relu(3 + 0.5), relu(-2 + 1)


if __name__ == "__main__":
    unittest.main()
