// The body of a submitted update: after its header, the tensor chunks, at
// most one audit manifest and a trailer counting the bytes, in that
// protocol's order. Kept apart from gRPC so that the server and the fuzzer
// feed it alike. Stateless; thread-safe.
#ifndef BIOFED_WIRE_UPDATE_STREAM_H_
#define BIOFED_WIRE_UPDATE_STREAM_H_

#include <functional>
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

// Reads the next chunk into its argument, whose payload stays valid until
// the next call; false at the end of the stream, an error for a chunk that
// does not decode.
using UpdateChunkReader = std::function<absl::StatusOr<bool>(UpdateChunkView*)>;

// Assembles the tensors `header` declares from the chunks `read` yields,
// against `schema` and `limits`. INVALID_ARGUMENT for a declaration that
// differs from the schema, a chunk out of place, a second header or audit
// manifest, anything after the trailer, or a non-finite value;
// RESOURCE_EXHAUSTED past the limits; DATA_LOSS for a stream that ends
// early, a trailer whose count differs, or a checksum mismatch.
absl::StatusOr<ReceivedUpdate> ReceiveUpdateBody(const v1::UpdateHeader& header, const UpdateChunkReader& read,
                                                 const TensorTable& schema, const WireLimits& limits);

}  // namespace biofed

#endif  // BIOFED_WIRE_UPDATE_STREAM_H_
