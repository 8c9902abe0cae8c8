// The wire codec, checkpoints, credentials and aggregation, without gRPC
// calls.
#include <cmath>
#include <cstring>
#include <limits>
#include <random>

#include <gtest/gtest.h>

#include "server/aggregation.h"
#include "server/checkpoint.h"
#include "server/credentials.h"
#include "tests/testing/crc32c_reference.h"
#include "tests/testing/federation_harness.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"
#include "wire/crc32c.h"
#include "wire/tensor_stream.h"

namespace biofed {
namespace {

using ::biofed::testing::BitwiseCrc32c;
using ::biofed::testing::FloatTensor;
using ::biofed::testing::IsOk;
using ::biofed::testing::StatusIs;

TEST(Crc32cTest, CheckValueOfTheStandard) {
  // The CRC-32C check value (RFC 3720, appendix B.4 catalogue): "123456789".
  EXPECT_EQ(Crc32c("123456789", 9), 0xE3069283u);
}

TEST(Crc32cTest, MatchesBitwiseDefinitionAtEveryLengthAndAlignment) {
  std::mt19937 rng(7);
  std::string buffer(300, '\0');
  for (char& c : buffer) c = static_cast<char>(rng());
  for (size_t start = 0; start < 8; ++start) {
    for (size_t length : {0, 1, 7, 8, 9, 63, 64, 65, 255}) {
      const std::string piece = buffer.substr(start, length);
      EXPECT_EQ(Crc32c(piece.data(), piece.size()), BitwiseCrc32c(piece)) << start << "+" << length;
    }
  }
  // Extending in two parts equals one pass.
  EXPECT_EQ(Crc32c(buffer.data() + 100, 200, Crc32c(buffer.data(), 100)), Crc32c(buffer.data(), 300));
}

TEST(Crc32cTest, MatchesBitwiseDefinitionOnLongBuffers) {
  // Long enough for the interleaved path (three 4 KiB streams per block):
  // lengths below, at and around one and several blocks, at odd starts,
  // and a crc extended across a block boundary.
  std::mt19937 rng(11);
  std::string buffer(5 * 3 * 4096 + 100, '\0');
  for (char& c : buffer) c = static_cast<char>(rng());
  for (size_t start : {0, 3}) {
    for (size_t length : {3 * 4096 - 1, 3 * 4096, 3 * 4096 + 1, 2 * 3 * 4096 + 17, 5 * 3 * 4096 + 97}) {
      const std::string piece = buffer.substr(start, length);
      EXPECT_EQ(Crc32c(piece.data(), piece.size()), BitwiseCrc32c(piece)) << start << "+" << length;
    }
  }
  EXPECT_EQ(Crc32c(buffer.data() + 5000, 30000, Crc32c(buffer.data(), 5000)),
            BitwiseCrc32c(buffer.substr(0, 35000)));
}

TEST(Crc32cTest, EveryEngineThisCpuHasMatchesTheDefinition) {
  // Each engine on its own, not only the one Crc32c picks: every length up
  // to 700 (the instruction's 8-byte words and single bytes), long buffers
  // (its three interleaved 4 KiB streams), at odd starts, and extended from
  // a nonzero crc.
  std::mt19937 rng(13);
  std::string buffer(3 * 3 * 4096 + 700, '\0');
  for (char& c : buffer) c = static_cast<char>(rng());
  int engines = 0;
  for (Crc32cEngine engine : {Crc32cEngine::kTable, Crc32cEngine::kInstruction}) {
    if (!Crc32cEngineAvailable(engine)) continue;
    ++engines;
    for (size_t start : {0, 5}) {
      for (size_t length = 0; length <= 700; ++length) {
        const std::string piece = buffer.substr(start, length);
        ASSERT_EQ(Crc32cUsing(engine, piece.data(), piece.size(), 0), BitwiseCrc32c(piece))
            << static_cast<int>(engine) << ": " << start << "+" << length;
      }
      for (size_t length : {4096 - 1, 3 * 4096, 3 * 3 * 4096 + 333}) {
        const std::string piece = buffer.substr(start, length);
        ASSERT_EQ(Crc32cUsing(engine, piece.data(), piece.size(), 0), BitwiseCrc32c(piece))
            << static_cast<int>(engine) << ": " << start << "+" << length;
      }
    }
    const uint32_t head = BitwiseCrc32c(buffer.substr(0, 1000));
    EXPECT_EQ(Crc32cUsing(engine, buffer.data() + 1000, 20000, head), BitwiseCrc32c(buffer.substr(0, 21000)))
        << static_cast<int>(engine);
  }
  EXPECT_GE(engines, 1);
  EXPECT_TRUE(Crc32cEngineAvailable(Crc32cEngine::kTable));  // everywhere
}

TensorTable TwoTensors() { return {FloatTensor("a", {3, 5}, 1.0f), FloatTensor("b", {1000}, -2.0f)}; }

TEST(TensorStreamTest, RoundTripsInSmallChunks) {
  const TensorTable table = TwoTensors();
  v1::ModelHeader header;
  DescribeTable(table, header.mutable_tensors());
  auto assembler = TableAssembler::Start(header.tensors(), nullptr, WireLimits{});
  ASSERT_THAT(assembler, IsOk());
  int chunks = 0;
  ASSERT_TRUE(ForEachChunk(table, 64, [&](const TensorChunk& c) {
    ++chunks;
    return assembler->Add(c.tensor_index, c.offset, c.bytes, c.tensor_crc).ok();
  }));
  EXPECT_EQ(chunks, 1 + (4000 + 63) / 64);  // 60 bytes of 'a' in one chunk, 4000 of 'b' in 64-byte chunks
  auto out = assembler->Finish(true);
  ASSERT_THAT(out, IsOk());
  ASSERT_EQ(out->size(), 2u);
  EXPECT_EQ((*out)[0].bytes, table[0].bytes);
  EXPECT_EQ((*out)[1].bytes, table[1].bytes);
  EXPECT_EQ((*out)[1].shape, std::vector<int64_t>{1000});
}

TEST(TensorStreamTest, RefusesGapsOverrunsAndUnknownIndices) {
  const TensorTable table = TwoTensors();
  v1::ModelHeader header;
  DescribeTable(table, header.mutable_tensors());
  auto a = TableAssembler::Start(header.tensors(), nullptr, WireLimits{});
  ASSERT_THAT(a, IsOk());
  EXPECT_THAT(a->Add(2, 0, "x", std::nullopt), StatusIs(absl::StatusCode::kInvalidArgument, "tensor index 2"));
  EXPECT_THAT(a->Add(0, 4, std::string_view(table[0].bytes).substr(4), std::nullopt),
              StatusIs(absl::StatusCode::kInvalidArgument, "expected offset 0"));
  EXPECT_THAT(a->Add(0, 0, std::string(61, 'x'), std::nullopt),
              StatusIs(absl::StatusCode::kInvalidArgument, "more bytes"));
  EXPECT_THAT(a->Finish(true), StatusIs(absl::StatusCode::kDataLoss, "truncated"));
}

TEST(TensorStreamTest, EachTensorsChecksumRidesOnItsLastChunkOnly) {
  const TensorTable table = TwoTensors();
  std::vector<TensorChunk> chunks;
  ASSERT_TRUE(ForEachChunk(table, 1000, [&](const TensorChunk& c) {
    chunks.push_back(c);
    return true;
  }));
  ASSERT_EQ(chunks.size(), 5u);  // 60 bytes of 'a', then 4000 of 'b' in four
  for (size_t k = 0; k < chunks.size(); ++k) {
    const bool last = k == 0 || k == 4;
    ASSERT_EQ(chunks[k].tensor_crc.has_value(), last) << k;
    if (last) {
      EXPECT_EQ(*chunks[k].tensor_crc, BitwiseCrc32c(std::string(table[chunks[k].tensor_index].bytes))) << k;
    }
  }
  v1::ModelHeader header;
  DescribeTable(table, header.mutable_tensors());
  const std::string_view a_bytes(table[0].bytes);
  const uint32_t a_crc = BitwiseCrc32c(std::string(a_bytes));
  auto start = [&] { return TableAssembler::Start(header.tensors(), nullptr, WireLimits{}).value(); };
  {
    TableAssembler a = start();
    EXPECT_THAT(a.Add(0, 0, a_bytes.substr(0, 20), a_crc),
                StatusIs(absl::StatusCode::kInvalidArgument, "does not end tensor 'a'"));
  }
  {
    TableAssembler a = start();
    EXPECT_THAT(a.Add(0, 0, a_bytes, std::nullopt), StatusIs(absl::StatusCode::kDataLoss, "without its checksum"));
  }
  {
    TableAssembler a = start();
    EXPECT_THAT(a.Add(0, 0, a_bytes, a_crc ^ 1), StatusIs(absl::StatusCode::kDataLoss, "checksum mismatch in tensor 'a'"));
  }
  {
    TableAssembler a = start();
    std::string flipped(a_bytes);
    flipped[33] ^= 0x10;  // one bit on the way
    EXPECT_THAT(a.Add(0, 0, flipped.substr(0, 30), std::nullopt), IsOk());
    EXPECT_THAT(a.Add(0, 30, std::string_view(flipped).substr(30), a_crc),
                StatusIs(absl::StatusCode::kDataLoss, "checksum mismatch"));
  }
}

TEST(TensorStreamTest, LimitsApplyToDeclarations) {
  v1::ModelHeader header;
  DescribeTable(TwoTensors(), header.mutable_tensors());
  WireLimits tight;
  tight.max_tensor_bytes = 1000;
  EXPECT_THAT(TableAssembler::Start(header.tensors(), nullptr, tight),
              StatusIs(absl::StatusCode::kResourceExhausted, "tensor 'b'"));
  tight = WireLimits{};
  tight.max_tensors = 1;
  EXPECT_THAT(TableAssembler::Start(header.tensors(), nullptr, tight),
              StatusIs(absl::StatusCode::kResourceExhausted, "2 tensors declared"));
  header.mutable_tensors(0)->add_shape(-1);
  EXPECT_THAT(TableAssembler::Start(header.tensors(), nullptr, WireLimits{}),
              StatusIs(absl::StatusCode::kInvalidArgument, "negative dimension"));
}

TEST(CheckpointTest, RoundTripsAndDetectsCorruption) {
  testing::TempDir dir;
  Checkpoint c;
  c.run_id = "run";
  c.model_spec_json = "{\"architecture\":\"mlp\"}";
  c.completed_rounds = 2;
  c.model = TwoTensors();
  RoundSummary s;
  s.round = 2;
  s.participants = {"a", "b"};
  s.dropped = {"c"};
  s.examples = 17;
  s.test_accuracy = 0.5;
  c.history = {s};
  const std::string path = dir.File("ck.bin");
  ASSERT_THAT(WriteCheckpoint(path, c), IsOk());
  auto back = ReadCheckpoint(path);
  ASSERT_THAT(back, IsOk());
  EXPECT_EQ(back->completed_rounds, 2);
  EXPECT_EQ(back->model_spec_json, c.model_spec_json);
  EXPECT_EQ(back->model[1].bytes, c.model[1].bytes);
  EXPECT_EQ(back->history.at(0).participants, s.participants);
  EXPECT_EQ(back->history.at(0).dropped, s.dropped);
  EXPECT_DOUBLE_EQ(back->history.at(0).test_accuracy, 0.5);

  std::string bytes = EncodeCheckpoint(c);
  bytes[bytes.size() - 3] ^= 0x40;
  EXPECT_THAT(DecodeCheckpoint(bytes, "ck"), StatusIs(absl::StatusCode::kDataLoss, "checksum mismatch in tensor 'b'"));
  EXPECT_THAT(DecodeCheckpoint(bytes.substr(0, bytes.size() - 10), "ck"),
              StatusIs(absl::StatusCode::kDataLoss, "truncated"));
  EXPECT_THAT(DecodeCheckpoint("BIOFEDCK", "ck"), StatusIs(absl::StatusCode::kDataLoss, "not a biofed checkpoint"));
}

// Issue #20: a non-finite number in the history (a NaN loss a client sent,
// a diverged model's test loss) is written as JSON null; the checkpoint
// must still load, with NaN in its place.
TEST(CheckpointTest, NonFiniteNumbersInTheHistoryLoadAsNaN) {
  Checkpoint c;
  c.run_id = "run";
  c.model = TwoTensors();
  c.completed_rounds = 1;
  RoundSummary s;
  s.round = 1;
  s.train_loss = std::numeric_limits<double>::quiet_NaN();
  s.test_loss = std::numeric_limits<double>::infinity();
  s.test_accuracy = 0.25;
  c.history = {s};
  auto back = DecodeCheckpoint(EncodeCheckpoint(c), "ck");
  ASSERT_THAT(back, IsOk());
  EXPECT_TRUE(std::isnan(back->history.at(0).train_loss));
  EXPECT_TRUE(std::isnan(back->history.at(0).test_loss));
  EXPECT_DOUBLE_EQ(back->history.at(0).test_accuracy, 0.25);
}

TEST(CredentialsTest, ParsesRolesAndRefusesMalformedLines) {
  auto store = CredentialStore::Parse(
      "# name roles token\nalice client alice-token-0123456789\naudit auditor,scorer audit-token-0123456789\n", "creds");
  ASSERT_THAT(store, IsOk());
  const Principal* audit = store->Find("audit-token-0123456789");
  ASSERT_NE(audit, nullptr);
  EXPECT_TRUE(audit->Has(Role::kScorer));
  EXPECT_FALSE(audit->Has(Role::kClient));
  EXPECT_EQ(store->Find("nobody"), nullptr);
  EXPECT_THAT(CredentialStore::Parse("alice client short\n", "creds"),
              StatusIs(absl::StatusCode::kInvalidArgument, "creds:1: the token of 'alice' is shorter than 16"));
  EXPECT_THAT(CredentialStore::Parse("alice admin alice-token-0123456789\n", "creds"),
              StatusIs(absl::StatusCode::kInvalidArgument, "unknown role 'admin'"));
  EXPECT_THAT(CredentialStore::Parse("a client t-0123456789abcdef\na client u-0123456789abcdef\n", "creds"),
              StatusIs(absl::StatusCode::kInvalidArgument, "creds:2: principal 'a' listed twice"));
  EXPECT_THAT(CredentialStore::Parse("# nothing\n", "creds"), StatusIs(absl::StatusCode::kInvalidArgument, "no credentials"));
}

TEST(AggregationTest, EqualsAnIndependentWeightedMean) {
  std::mt19937 rng(3);
  std::normal_distribution<float> normal;
  auto random_tensor = [&](const std::string& name, int64_t n, TensorRole role) {
    HostTensor t = FloatTensor(name, {n}, 0.f, role);
    for (int64_t i = 0; i < n; ++i) t.mutable_floats()[i] = normal(rng);
    return t;
  };
  auto random_doubles = [&](const std::string& name, int64_t n) {  // a float64 parameter
    HostTensor t;
    t.name = name;
    t.dtype = DType::kFloat64;
    t.shape = {n};
    t.bytes.resize(static_cast<size_t>(n) * 8);
    for (int64_t i = 0; i < n; ++i) {
      const double v = normal(rng);
      std::memcpy(t.bytes.data() + i * 8, &v, 8);
    }
    return t;
  };
  auto double_at = [](const HostTensor& t, size_t i) {
    double v;
    std::memcpy(&v, t.bytes.data() + i * 8, 8);
    return v;
  };
  const TensorTable model = {random_tensor("w", 257, TensorRole::kParameter), random_tensor("m", 9, TensorRole::kBuffer),
                             random_doubles("d", 131)};
  std::vector<ClientUpdate> updates(3);
  const int64_t examples[3] = {5, 20, 75};
  for (int k = 0; k < 3; ++k) {
    updates[k].client_id = "c" + std::to_string(k);
    updates[k].num_examples = examples[k];
    updates[k].tensors = {random_tensor("w", 257, TensorRole::kParameter), random_tensor("m", 9, TensorRole::kBuffer),
                          random_doubles("d", 131)};
  }
  const double step = 0.3;
  auto next = Aggregate(model, {&updates[0], &updates[1], &updates[2]}, step);
  ASSERT_THAT(next, IsOk());
  for (size_t t = 0; t < 2; ++t) {
    for (size_t i = 0; i < model[t].bytes.size() / 4; ++i) {
      double mean = 0;
      for (int k = 0; k < 3; ++k) mean += examples[k] / 100.0 * updates[k].tensors[t].floats()[i];
      const double expected = t == 0 ? model[t].floats()[i] - step * mean : mean;
      // float32 accumulation of three O(1) terms: |error| < ~4 ulp(4) = 2e-6.
      EXPECT_NEAR((*next)[t].floats()[i], expected, 2e-6);
    }
  }
  for (size_t i = 0; i < 131; ++i) {
    double mean = 0;
    for (int k = 0; k < 3; ++k) mean += examples[k] / 100.0 * double_at(updates[k].tensors[2], i);
    // float64 arithmetic on a few O(1) terms: within a few ulp(4), far below 1e-12.
    EXPECT_NEAR(double_at((*next)[2], i), double_at(model[2], i) - step * mean, 1e-12);
  }
  ClientUpdate bad = updates[0];
  bad.tensors[0].shape = {256};
  bad.tensors[0].bytes.resize(256 * 4);
  EXPECT_THAT(Aggregate(model, {&bad}, step), StatusIs(absl::StatusCode::kInvalidArgument, "does not fit tensor 'w'"));
  EXPECT_THAT(Aggregate(model, {}, step), StatusIs(absl::StatusCode::kInvalidArgument, "no updates"));
}

}  // namespace
}  // namespace biofed
