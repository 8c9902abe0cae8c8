// The body of a submitted update: after its header, the tensor chunks, at
// most one audit manifest and a trailer counting the bytes, in that
// protocol's order. Chunks are handed in as they arrive, however they were
// read, so that the server's call handler and the fuzzer feed it alike.
// Not thread-safe: one caller at a time per object.
#ifndef BIOFED_WIRE_UPDATE_STREAM_H_
#define BIOFED_WIRE_UPDATE_STREAM_H_

#include <optional>

#include "absl/status/statusor.h"
#include "biofed/v1/federation.pb.h"
#include "wire/host_tensor.h"
#include "wire/tensor_stream.h"
#include "wire/update_chunk_codec.h"

namespace biofed {

struct ReceivedUpdate {
  TensorTable tensors;  // in declaration order, checksums and finiteness checked
  std::optional<v1::AuditManifest> audit;
};

class UpdateReceiver {
 public:
  // Expects the tensors `header` declares, against `schema` and `limits`.
  // INVALID_ARGUMENT for a declaration that differs from the schema;
  // RESOURCE_EXHAUSTED past the limits.
  static absl::StatusOr<UpdateReceiver> Start(const v1::UpdateHeader& header, const TensorTable& schema,
                                              const WireLimits& limits);

  // Takes the chunk that follows the previous one; a data chunk's payload
  // is copied before this returns, and the audit manifest is moved out of
  // `chunk`. INVALID_ARGUMENT for a chunk out of place, a second header or
  // audit manifest, anything after the trailer, or an empty chunk;
  // RESOURCE_EXHAUSTED past the limits; DATA_LOSS for a trailer whose count
  // differs from the bytes received or a checksum mismatch.
  absl::Status Add(UpdateChunkView* chunk);

  // The stream has ended: the update. DATA_LOSS when it ended before the
  // trailer or short of a tensor's bytes; INVALID_ARGUMENT for a non-finite
  // value.
  absl::StatusOr<ReceivedUpdate> Finish();

 private:
  explicit UpdateReceiver(TableAssembler assembler) : assembler_(std::move(assembler)) {}

  TableAssembler assembler_;
  std::optional<v1::AuditManifest> audit_;
  bool trailer_ = false;
};

}  // namespace biofed

#endif  // BIOFED_WIRE_UPDATE_STREAM_H_
