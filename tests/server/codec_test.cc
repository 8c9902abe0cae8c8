// The zero-copy pieces of the update path: HostBytes, the cache-bypassing
// copy, the UpdateChunk decoder and encoder (checked against protobuf's own
// parser and serialiser), the assembler's streaming checks, and the
// threaded aggregation.
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <memory>
#include <optional>
#include <random>

#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "server/aggregation.h"
#include "tests/testing/federation_harness.h"
#include "tests/testing/status_matchers.h"
#include "wire/crc32c.h"
#include "wire/host_bytes.h"
#include "wire/host_tensor.h"
#include "wire/tensor_stream.h"
#include "wire/update_chunk_codec.h"

namespace biofed {
namespace {

using ::biofed::testing::FloatTensor;
using ::biofed::testing::IsOk;
using ::biofed::testing::StatusIs;

std::string RandomBytes(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(rng());
  return s;
}

TEST(HostBytesTest, BehavesLikeAStringWhereItMatters) {
  HostBytes b;
  EXPECT_TRUE(b.empty());
  b.assign("abc", 3);
  b.resize(6);  // new bytes are zero, as std::string's
  EXPECT_EQ(std::string_view(b), std::string_view("abc\0\0\0", 6));
  b.ResizeUninitialized(2);  // shrinking keeps the front
  EXPECT_EQ(std::string_view(b), "ab");
  b.ResizeUninitialized(3);  // growing within capacity keeps what was there
  EXPECT_EQ(std::string_view(b).substr(0, 2), "ab");
  HostBytes copy = b;  // deep
  copy.data()[0] = 'z';
  EXPECT_EQ(b.data()[0], 'a');
  EXPECT_NE(copy, b);
  HostBytes moved = std::move(copy);
  EXPECT_EQ(moved.data()[0], 'z');
  b.assign(4, 'q');
  EXPECT_EQ(std::string_view(b), "qqqq");
}

TEST(HostBytesTest, AppendingItsOwnBytesSurvivesGrowth) {
  HostBytes b;
  b.assign("0123456789", 10);
  for (int i = 0; i < 12; ++i) b.append(b.data(), b.size());  // forces reallocation while reading itself
  ASSERT_EQ(b.size(), 10u << 12);
  for (size_t i = 0; i < b.size(); ++i) ASSERT_EQ(b.data()[i], static_cast<char>('0' + i % 10)) << i;
  b.assign(b.data() + 5, 5);  // from inside itself
  EXPECT_EQ(std::string_view(b), "56789");
}

TEST(CopyBypassingCacheTest, EqualsMemcpyAtEverySizeClassAndAlignment) {
  const std::string source = RandomBytes(70000, 1);
  for (size_t shift : {0, 1, 8, 15}) {
    for (size_t size : {0, 1, 63, 4095, 4096, 4097, 65536 + 13, 69000}) {
      std::string destination(70016, 'x');
      CopyBypassingCache(destination.data() + shift, source.data() + 3, size);
      EXPECT_EQ(destination.compare(shift, size, source, 3, size), 0) << shift << "+" << size;
      EXPECT_EQ(destination[shift + size], 'x') << "wrote past the end at " << shift << "+" << size;
      if (shift > 0) {
        EXPECT_EQ(destination[shift - 1], 'x');
      }
    }
  }
}

// Whether every value wholly inside tensor bytes [offset, offset + size) is
// finite, one std::isfinite at a time.
bool FiniteByIsFinite(DType dtype, const char* tensor, uint64_t offset, size_t size) {
  const uint64_t value_bytes = DTypeSize(dtype);
  for (uint64_t v = (offset + value_bytes - 1) / value_bytes * value_bytes; v + value_bytes <= offset + size;
       v += value_bytes) {
    if (dtype == DType::kFloat32) {
      float f;
      std::memcpy(&f, tensor + v, 4);
      if (!std::isfinite(f)) return false;
    } else if (dtype == DType::kFloat64) {
      double d;
      std::memcpy(&d, tensor + v, 8);
      if (!std::isfinite(d)) return false;
    }
  }
  return true;
}

TEST(CopyFiniteBypassingCacheTest, CopiesAndFindsEveryBadValueWhereverItLies) {
  constexpr size_t kTensorBytes = 72000;
  std::unique_ptr<char, decltype(&std::free)> source(static_cast<char*>(std::aligned_alloc(64, kTensorBytes)),
                                                     &std::free);
  std::unique_ptr<char, decltype(&std::free)> target(static_cast<char*>(std::aligned_alloc(64, kTensorBytes + 64)),
                                                     &std::free);
  std::mt19937 rng(7);
  std::uniform_real_distribution<double> value(-1e6, 1e6);
  int cases = 0, bad_cases = 0;
  for (DType dtype : {DType::kFloat32, DType::kFloat64, DType::kInt32}) {
    const size_t value_bytes = DTypeSize(dtype);
    for (size_t v = 0; v + value_bytes <= kTensorBytes; v += value_bytes) {  // finite values everywhere
      if (dtype == DType::kFloat64) {
        const double d = value(rng);
        std::memcpy(source.get() + v, &d, 8);
      } else {
        const float f = static_cast<float>(value(rng));
        std::memcpy(source.get() + v, &f, 4);
      }
    }
    // 0: the tensor starts 16-byte aligned (the vector path); 4: it does not.
    for (size_t base_shift : {size_t{0}, size_t{4}}) {
      for (uint64_t offset : {0, 2, 4, 8, 12, 20, 4097}) {
        for (size_t size : {0, 7, 100, 4095, 4096, 5000, 65536 + 13, 70000}) {
          if (offset + size > kTensorBytes - 16) continue;
          // Where to put a NaN or an infinity, as byte offsets in the tensor:
          // nowhere, the first and last whole values, one in the middle, and
          // the values cut by either end of the copied range.
          const uint64_t first = (offset + value_bytes - 1) / value_bytes * value_bytes;
          const uint64_t last = (offset + size) / value_bytes * value_bytes;
          std::vector<int64_t> poison = {-1};
          if (first < offset + size) poison.push_back(static_cast<int64_t>(first));
          if (last >= value_bytes + first) poison.push_back(static_cast<int64_t>(last - value_bytes));
          poison.push_back(static_cast<int64_t>((offset + size / 2) / value_bytes * value_bytes));
          if (first > value_bytes) poison.push_back(static_cast<int64_t>(first - value_bytes));
          poison.push_back(static_cast<int64_t>(last));
          for (int64_t at : poison) {
            for (int kind = 0; kind < 2; ++kind) {
              char saved[8];
              const bool poisoned = at >= 0 && static_cast<size_t>(at) + value_bytes <= kTensorBytes;
              if (poisoned) {
                std::memcpy(saved, source.get() + at, value_bytes);
                if (dtype == DType::kFloat64) {
                  const double d = kind ? std::numeric_limits<double>::infinity() : std::nan("");
                  std::memcpy(source.get() + at, &d, 8);
                } else {
                  const float f = kind ? -std::numeric_limits<float>::infinity() : std::nanf("");
                  std::memcpy(source.get() + at, &f, 4);
                }
              }
              char* tensor = target.get() + base_shift;
              std::memset(target.get(), 'x', kTensorBytes + 64);
              const bool expected = FiniteByIsFinite(dtype, source.get(), offset, size);
              const bool got =
                  CopyFiniteBypassingCache(dtype, offset, tensor + offset, source.get() + offset, size);
              const std::string where = absl::StrCat(DTypeName(dtype), " base+", base_shift, " offset ", offset,
                                                     " size ", size, " bad value at ", at);
              ASSERT_EQ(got, expected) << where;
              ASSERT_EQ(std::memcmp(tensor + offset, source.get() + offset, size), 0) << where;
              ASSERT_EQ(tensor[offset + size], 'x') << "wrote past the end: " << where;
              if (offset + base_shift > 0) {
                ASSERT_EQ(tensor[offset - 1], 'x') << "wrote before the start: " << where;
              }
              ++cases;
              bad_cases += expected ? 0 : 1;
              if (poisoned) std::memcpy(source.get() + at, saved, value_bytes);
            }
          }
        }
      }
    }
  }
  // The cases reach both answers, many times.
  EXPECT_GT(cases, 500);
  EXPECT_GT(bad_cases, 200);
}

// Decodes `serialized` handed over in pieces of `piece_bytes`.
absl::Status Decode(const std::string& serialized, int piece_bytes, UpdateChunkView* view) {
  google::protobuf::io::ArrayInputStream input(serialized.data(), static_cast<int>(serialized.size()), piece_bytes);
  return DecodeUpdateChunk(&input, view);
}

std::string Joined(const std::vector<std::string_view>& pieces) {
  std::string out;
  for (std::string_view p : pieces) out.append(p.data(), p.size());
  return out;
}

TEST(UpdateChunkCodecTest, DecodesWhatProtobufEncodesInAnyPieces) {
  const std::string payload = RandomBytes(5000, 2);
  for (uint32_t index : {0u, 1u, 300u}) {
    for (uint64_t offset : {uint64_t{0}, uint64_t{4096}, uint64_t{1} << 40}) {
      for (std::optional<uint32_t> crc : {std::optional<uint32_t>(), std::optional<uint32_t>(0u),
                                          std::optional<uint32_t>(0xdeadbeefu)}) {
        v1::UpdateChunk chunk;
        FillTensorData(TensorChunk{index, offset, payload, crc}, chunk.mutable_data());
        const std::string serialized = chunk.SerializeAsString();
        for (int piece_bytes : {1, 7, 4096, static_cast<int>(serialized.size())}) {
          UpdateChunkView view;
          ASSERT_THAT(Decode(serialized, piece_bytes, &view), IsOk());
          EXPECT_TRUE(view.is_data);
          EXPECT_EQ(view.tensor_index, index);
          EXPECT_EQ(view.offset, offset);
          EXPECT_EQ(view.tensor_crc, crc);
          EXPECT_EQ(Joined(view.payload), payload) << index << "/" << offset << "/" << piece_bytes;
          // The payload was not copied: every piece points into the input.
          for (std::string_view p : view.payload) {
            EXPECT_GE(p.data(), serialized.data());
            EXPECT_LE(p.data() + p.size(), serialized.data() + serialized.size());
          }
        }
      }
    }
  }
}

TEST(UpdateChunkCodecTest, OtherPartsBecomeMessages) {
  v1::UpdateChunk header;
  header.mutable_header()->set_client_id("c7");
  header.mutable_header()->set_round(12);
  header.mutable_header()->add_tensors()->set_name("fc.weight");
  v1::UpdateChunk audit;
  audit.mutable_audit()->set_dataset("fashion-mnist");
  for (int64_t i : {4, 8, 15}) audit.mutable_audit()->add_sample_indices(i);
  v1::UpdateChunk trailer;
  trailer.mutable_trailer()->set_total_bytes(123456789);
  for (const v1::UpdateChunk* chunk : {&header, &audit, &trailer}) {
    UpdateChunkView view;
    ASSERT_THAT(Decode(chunk->SerializeAsString(), 3, &view), IsOk());
    EXPECT_FALSE(view.is_data);
    EXPECT_EQ(view.message.SerializeAsString(), chunk->SerializeAsString());
  }
  UpdateChunkView empty;
  ASSERT_THAT(Decode("", 1, &empty), IsOk());
  EXPECT_FALSE(empty.is_data);
  EXPECT_EQ(empty.message.part_case(), v1::UpdateChunk::PART_NOT_SET);
}

TEST(UpdateChunkCodecTest, ToleratesFieldOrderAndUnknownFieldsRejectsTheMalformed) {
  // TensorData with the payload first, an unknown varint field 9 and an
  // unknown field 5 in UpdateChunk, written by hand: protobuf accepts any
  // field order and skips unknown fields, and so must the decoder.
  std::string data = "\x1a\x03xyz";          // payload (3) = "xyz"
  data += "\x48\x05";                        // field 9, varint 5
  data += "\x08\x02\x10\x80\x01";            // tensor_index 2, offset 128
  std::string chunk = "\x28\x01";            // UpdateChunk field 5, varint 1
  chunk += "\x12" + std::string(1, static_cast<char>(data.size())) + data;  // data (2)
  v1::UpdateChunk reference;
  ASSERT_TRUE(reference.ParseFromString(chunk));
  UpdateChunkView view;
  ASSERT_THAT(Decode(chunk, 2, &view), IsOk());
  EXPECT_EQ(view.tensor_index, reference.data().tensor_index());
  EXPECT_EQ(view.offset, reference.data().offset());
  EXPECT_EQ(Joined(view.payload), reference.data().payload());

  v1::UpdateChunk whole;
  FillTensorData(TensorChunk{1, 0, "abcdef", 0x01020304u}, whole.mutable_data());
  const std::string serialized = whole.SerializeAsString();
  for (size_t cut = 1; cut < serialized.size(); ++cut) {  // every truncation
    EXPECT_THAT(Decode(serialized.substr(0, cut), 1, &view), StatusIs(absl::StatusCode::kInvalidArgument, "malformed"))
        << "cut at " << cut;
  }
  v1::UpdateChunk trailer;
  trailer.mutable_trailer()->set_total_bytes(6);
  const std::string two_parts = serialized + trailer.SerializeAsString();
  EXPECT_THAT(Decode(two_parts, 4, &view), StatusIs(absl::StatusCode::kInvalidArgument, "more than one part"));
  EXPECT_THAT(Decode(std::string("\x00\x01", 2), 1, &view), StatusIs(absl::StatusCode::kInvalidArgument, "malformed"));
}

TEST(UpdateChunkCodecTest, PrefixPlusPayloadIsWhatProtobufParses) {
  const std::string payload = RandomBytes(300, 3);
  for (uint32_t index : {0u, 5u, 70000u}) {
    for (uint64_t offset : {uint64_t{0}, uint64_t{1} << 20}) {
      for (std::optional<uint32_t> crc : {std::optional<uint32_t>(), std::optional<uint32_t>(0u),
                                          std::optional<uint32_t>(0xfedcba98u)}) {
        v1::UpdateChunk parsed;
        ASSERT_TRUE(parsed.ParseFromString(DataChunkPrefix(index, offset, payload.size(), crc) + payload));
        ASSERT_EQ(parsed.part_case(), v1::UpdateChunk::kData);
        EXPECT_EQ(parsed.data().tensor_index(), index);
        EXPECT_EQ(parsed.data().offset(), offset);
        EXPECT_EQ(parsed.data().payload(), payload);
        ASSERT_EQ(parsed.data().has_tensor_crc32c(), crc.has_value());
        if (crc) {
          EXPECT_EQ(parsed.data().tensor_crc32c(), *crc);
        }
      }
    }
  }
}

TEST(UpdateChunkCodecTest, MethodPathMatchesTheGeneratedService) {
  EXPECT_EQ(SubmitUpdateMethodPath(), "/biofed.v1.Federation/SubmitUpdate");
}

TEST(TableAssemblerTest, FindsANanWhoseBytesArriveInTwoChunks) {
  HostTensor t = FloatTensor("w", {100}, 0.5f);
  t.mutable_floats()[37] = std::numeric_limits<float>::quiet_NaN();
  const TensorTable table = {t};
  v1::ModelHeader header;
  DescribeTable(table, header.mutable_tensors());
  for (size_t cut : {37 * 4 + 1, 37 * 4 + 2, 37 * 4 + 3}) {  // inside the NaN's four bytes
    auto a = TableAssembler::Start(header.tensors(), nullptr, WireLimits{});
    ASSERT_THAT(a, IsOk());
    const std::string_view bytes(table[0].bytes);
    ASSERT_THAT(a->Add(0, 0, bytes.substr(0, cut), std::nullopt), IsOk());
    // The rest as three pieces of one chunk, as gRPC may hand it over.
    const std::string_view rest = bytes.substr(cut);
    const std::string_view pieces[3] = {rest.substr(0, 1), rest.substr(1, 5), rest.substr(6)};
    ASSERT_THAT(a->Add(0, cut, pieces, Crc32c(bytes.data(), bytes.size())), IsOk());
    EXPECT_THAT(a->Finish(true), StatusIs(absl::StatusCode::kInvalidArgument, "NaN or infinite")) << cut;
  }
  // Without the NaN the same cuts assemble the exact bytes.
  const TensorTable clean = {FloatTensor("w", {100}, 0.5f)};
  v1::ModelHeader clean_header;
  DescribeTable(clean, clean_header.mutable_tensors());
  auto a = TableAssembler::Start(clean_header.tensors(), nullptr, WireLimits{});
  ASSERT_THAT(a, IsOk());
  const std::string_view bytes(clean[0].bytes);
  ASSERT_THAT(a->Add(0, 0, bytes.substr(0, 149), std::nullopt), IsOk());
  ASSERT_THAT(a->Add(0, 149, bytes.substr(149), Crc32c(bytes.data(), bytes.size())), IsOk());
  auto out = a->Finish(true);
  ASSERT_THAT(out, IsOk());
  EXPECT_EQ((*out)[0].bytes, clean[0].bytes);
}

TEST(AggregationTest, ThreadedAggregationOfALargeModelEqualsTheWeightedMean) {
  // 4.2M parameters plus an odd-sized buffer: above the size at which the
  // work is split among threads, with slices that end mid-block.
  std::mt19937 rng(9);
  std::uniform_real_distribution<float> uniform(-1.f, 1.f);
  auto random_tensor = [&](const std::string& name, int64_t n, TensorRole role) {
    HostTensor t = FloatTensor(name, {n}, 0.f, role);
    for (int64_t i = 0; i < n; ++i) t.mutable_floats()[i] = uniform(rng);
    return t;
  };
  const int64_t n = 4200007;
  const TensorTable model = {random_tensor("w", n, TensorRole::kParameter), random_tensor("m", 1001, TensorRole::kBuffer)};
  std::vector<ClientUpdate> updates(2);
  const int64_t examples[2] = {1, 3};
  for (int k = 0; k < 2; ++k) {
    updates[k].client_id = "c" + std::to_string(k);
    updates[k].num_examples = examples[k];
    updates[k].tensors = {random_tensor("w", n, TensorRole::kParameter), random_tensor("m", 1001, TensorRole::kBuffer)};
  }
  const double step = 0.5;
  auto next = Aggregate(model, {&updates[0], &updates[1]}, step);
  ASSERT_THAT(next, IsOk());
  for (size_t t = 0; t < 2; ++t) {
    const size_t count = model[t].bytes.size() / 4;
    size_t wrong = 0;
    for (size_t i = 0; i < count; ++i) {
      const double mean = 0.25 * updates[0].tensors[t].floats()[i] + 0.75 * updates[1].tensors[t].floats()[i];
      const double expected = t == 0 ? model[t].floats()[i] - step * mean : mean;
      // float32 arithmetic on terms of magnitude <= 1: within 4 ulp(2) = 1e-6.
      if (std::fabs((*next)[t].floats()[i] - expected) > 1e-6) ++wrong;
    }
    EXPECT_EQ(wrong, 0u) << model[t].name;
  }
}

}  // namespace
}  // namespace biofed
