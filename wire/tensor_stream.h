// Named tensors as a stream of chunks: the sender declares every tensor
// (name, dtype, shape, role) up front, then sends its bytes in chunks of at
// most `chunk_bytes`, the last chunk of each tensor with the tensor's
// CRC-32C; the receiver checks each declaration against a schema and the
// limits before accepting a single byte, then each chunk's place, each
// tensor's checksum as it ends, and at last the byte counts. Used for
// models, updates and observations alike. Not thread-safe per object.
#ifndef BIOFED_WIRE_TENSOR_STREAM_H_
#define BIOFED_WIRE_TENSOR_STREAM_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "biofed/v1/federation.pb.h"
#include "wire/host_tensor.h"

namespace biofed {

// 1 MiB: a quarter of gRPC's default 4 MiB message limit.
constexpr size_t kDefaultChunkBytes = size_t{1} << 20;

struct WireLimits {
  uint64_t max_tensor_bytes = uint64_t{1} << 30;  // one tensor
  uint64_t max_total_bytes = uint64_t{2} << 30;   // one model or update
  size_t max_tensors = 4096;
};

using TensorSpecList = google::protobuf::RepeatedPtrField<v1::TensorSpec>;

// Appends a declaration of each tensor of `table`.
void DescribeTable(const TensorTable& table, TensorSpecList* specs);

// Bytes [offset, offset + bytes.size()) of tensor `tensor_index`.
struct TensorChunk {
  uint32_t tensor_index = 0;
  uint64_t offset = 0;
  std::string_view bytes;
  std::optional<uint32_t> tensor_crc;  // on the tensor's last chunk only: CRC-32C of all its bytes
};

// Calls `sink(chunk)` for consecutive chunks of every tensor, in order,
// checksumming each chunk just before it goes (so its bytes are in cache
// when the sink sends them). A tensor of no bytes has no chunk. Stops and
// returns false as soon as `sink` does.
using ChunkSink = std::function<bool(const TensorChunk&)>;
bool ForEachChunk(const TensorTable& table, size_t chunk_bytes, const ChunkSink& sink);

// Fills one chunk message (what every ChunkSink of the protocol sends).
void FillTensorData(const TensorChunk& chunk, v1::TensorData* data);

class TableAssembler {
 public:
  // Checks `declared` against the limits (RESOURCE_EXHAUSTED when too
  // large) and, when `schema` is given, against it: the same set of names,
  // each with the schema's dtype, shape and role (INVALID_ARGUMENT naming
  // the first difference). The schema's bytes are not read.
  static absl::StatusOr<TableAssembler> Start(const TensorSpecList& declared, const TensorTable* schema,
                                              const WireLimits& limits);

  // Accepts the next chunk of tensor `index`, given as consecutive pieces
  // (a gRPC message arrives in several buffers), with `tensor_crc` when the
  // chunk ends the tensor. INVALID_ARGUMENT for an unknown index, a chunk
  // out of order, bytes past the declared size, or a checksum on a chunk
  // that does not end its tensor; DATA_LOSS when the chunk that ends a
  // tensor has no checksum or another than the bytes received. The bytes
  // are copied once, in cache-sized blocks: each block is checksummed, then
  // copied into the tensor while still in cache, with stores that bypass
  // it, its values tested for finiteness on the way.
  absl::Status Add(uint32_t index, uint64_t offset, absl::Span<const std::string_view> pieces,
                   std::optional<uint32_t> tensor_crc);
  absl::Status Add(uint32_t index, uint64_t offset, std::string_view payload, std::optional<uint32_t> tensor_crc) {
    return Add(index, offset, absl::MakeConstSpan(&payload, 1), tensor_crc);
  }
  absl::Status Add(const v1::TensorData& data) {
    return Add(data.tensor_index(), data.offset(), data.payload(),
               data.has_tensor_crc32c() ? std::optional<uint32_t>(data.tensor_crc32c()) : std::nullopt);
  }

  // The assembled tensors in declaration order. DATA_LOSS when a tensor is
  // short (truncated); INVALID_ARGUMENT for a NaN or infinite value when
  // `require_finite`.
  absl::StatusOr<TensorTable> Finish(bool require_finite);

  uint64_t bytes_received() const { return bytes_received_; }

 private:
  struct Progress {
    uint64_t received = 0;  // bytes, in order from the start
    uint32_t crc = 0;       // over the bytes received so far
    bool finite = true;
  };

  TableAssembler() = default;
  void Copy(HostTensor& t, Progress& p, const char* data, size_t size);

  TensorTable table_;  // sized as declared, filled as chunks arrive
  std::vector<Progress> progress_;
  uint64_t bytes_received_ = 0;
};

// The schema an update for a model must follow: every floating-point
// tensor of the model (parameters: their pseudo-gradients; buffers: their
// new values), same names, dtypes, shapes and roles.
TensorTable UpdateSchema(const TensorTable& model);

}  // namespace biofed

#endif  // BIOFED_WIRE_TENSOR_STREAM_H_
