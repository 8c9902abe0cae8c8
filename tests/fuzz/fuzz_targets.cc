#include "tests/fuzz/fuzz_targets.h"

#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <fstream>

#include <google/protobuf/io/zero_copy_stream_impl_lite.h>

#include "attack/update_record.h"
#include "common/status_macros.h"
#include "data/cifar_reader.h"
#include "data/idx_reader.h"
#include "server/checkpoint.h"
#include "server/credentials.h"
#include "simulate/simulation_config.h"
#include "wire/update_stream.h"

namespace biofed::fuzz {
namespace {

std::string AsString(const uint8_t* data, size_t size) { return std::string(reinterpret_cast<const char*>(data), size); }

// IDX files arrive gzip-compressed or raw, through a file (zlib's gz*
// functions read both): the input goes through the same path.
struct ScratchFile {
  const std::string path = "/tmp/biofed-fuzz-idx-" + std::to_string(getpid());
  ~ScratchFile() { std::remove(path.c_str()); }
};

bool RunIdx(const uint8_t* data, size_t size) {
  static const ScratchFile scratch;
  const std::string& path = scratch.path;
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  }
  auto bytes = ReadMaybeGzipped(path);
  if (!bytes.ok()) return false;
  const bool images = ParseIdxImages(*bytes, "fuzz").ok();
  const bool labels = ParseIdxLabels(*bytes, 10, "fuzz").ok();
  return images || labels;
}

bool RunCifar(const uint8_t* data, size_t size) {
  const std::string bytes = AsString(data, size);
  const bool ten = ParseCifar(bytes, CifarVariant::kCifar10, "fuzz").ok();
  const bool hundred = ParseCifar(bytes, CifarVariant::kCifar100, "fuzz").ok();
  return ten || hundred;
}

bool RunCapture(const uint8_t* data, size_t size) { return DecodeCapture(AsString(data, size), "fuzz").ok(); }

bool RunCheckpoint(const uint8_t* data, size_t size) { return DecodeCheckpoint(AsString(data, size), "fuzz").ok(); }

bool RunCredentials(const uint8_t* data, size_t size) {
  return CredentialStore::Parse(AsString(data, size), "fuzz").ok();
}

bool RunSimulationConfig(const uint8_t* data, size_t size) {
  auto config = ParseSimulationConfig(AsString(data, size), "fuzz");
  return config.ok() && ValidateSimulationConfig(*config).ok();
}

// Splits the input into framed chunks, each decoded as the server decodes
// a received message; a frame that runs past the input ends the stream
// there (as a broken connection would). The input stream hands the decoder
// each frame in pieces of a size taken from the frame's length, as gRPC
// hands it a message in several buffers.
class FramedChunks {
 public:
  FramedChunks(const uint8_t* data, size_t size) : data_(data), size_(size) {}
  absl::StatusOr<bool> Next(UpdateChunkView* chunk) {
    if (size_ - offset_ < 4) return false;
    uint32_t length = 0;
    std::memcpy(&length, data_ + offset_, 4);
    offset_ += 4;
    if (length > size_ - offset_) return false;
    const int piece_bytes = 1 + static_cast<int>(length % 61);
    google::protobuf::io::ArrayInputStream input(data_ + offset_, static_cast<int>(length), piece_bytes);
    offset_ += length;
    BIOFED_RETURN_IF_ERROR(DecodeUpdateChunk(&input, chunk));
    return true;
  }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t offset_ = 0;
};

bool RunUpdateStream(const uint8_t* data, size_t size) {
  static const TensorTable schema = UpdateSchema(FuzzUpdateModel());
  WireLimits limits;
  limits.max_tensor_bytes = 1 << 16;
  limits.max_total_bytes = 1 << 17;
  limits.max_tensors = 16;
  FramedChunks chunks(data, size);
  UpdateChunkView chunk;
  auto more = chunks.Next(&chunk);
  if (!more.ok() || !*more || chunk.is_data || !chunk.message.has_header()) return false;
  auto receiver = UpdateReceiver::Start(chunk.message.header(), schema, limits);
  if (!receiver.ok()) return false;
  while ((more = chunks.Next(&chunk)).ok() && *more) {
    if (!receiver->Add(&chunk).ok()) return false;
  }
  return more.ok() && receiver->Finish().ok();
}

}  // namespace

std::string FrameUpdateChunk(const std::string& serialized_chunk) {
  const auto length = static_cast<uint32_t>(serialized_chunk.size());
  std::string out(4, '\0');
  std::memcpy(out.data(), &length, 4);
  return out + serialized_chunk;
}

TensorTable FuzzUpdateModel() {
  auto floats = [](const std::string& name, std::vector<int64_t> shape, TensorRole role) {
    HostTensor t;
    t.name = name;
    t.shape = std::move(shape);
    t.role = role;
    int64_t count = 1;
    for (int64_t d : t.shape) count *= d;
    t.bytes.assign(static_cast<size_t>(count) * sizeof(float), '\0');
    for (int64_t i = 0; i < count; ++i) t.mutable_floats()[i] = 0.25f * static_cast<float>(i % 7) - 0.5f;
    return t;
  };
  HostTensor steps;
  steps.name = "bn.num_batches_tracked";
  steps.dtype = DType::kInt64;
  steps.role = TensorRole::kBuffer;
  steps.bytes.assign(sizeof(int64_t), '\0');
  return {floats("fc.weight", {3, 4}, TensorRole::kParameter), floats("fc.bias", {3}, TensorRole::kParameter),
          floats("bn.running_mean", {3}, TensorRole::kBuffer), steps};
}

const std::vector<FuzzTarget>& FuzzTargets() {
  static const std::vector<FuzzTarget> targets = {
      {"idx", "ReadMaybeGzipped + ParseIdxImages / ParseIdxLabels (MNIST, Fashion-MNIST)", RunIdx},
      {"cifar", "ParseCifar (CIFAR-10 and CIFAR-100 binary)", RunCifar},
      {"capture", "DecodeCapture (update records, .bfu)", RunCapture},
      {"checkpoint", "DecodeCheckpoint (the server's checkpoint)", RunCheckpoint},
      {"update_stream", "UpdateReceiver (a submitted update's chunks, TableAssembler)", RunUpdateStream},
      {"credentials", "CredentialStore::Parse (the server's token table)", RunCredentials},
      {"simulation_config", "ParseSimulationConfig + ValidateSimulationConfig", RunSimulationConfig},
  };
  return targets;
}

const FuzzTarget* FindFuzzTarget(std::string_view name) {
  for (const FuzzTarget& target : FuzzTargets()) {
    if (name == target.name) return &target;
  }
  return nullptr;
}

}  // namespace biofed::fuzz
