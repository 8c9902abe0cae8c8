// The wire form of v1::UpdateChunk, read and written without copying tensor
// bytes. A data chunk is decoded into a view whose payload stays in the
// buffers it arrived in (several, when gRPC received the message in
// pieces); every other part (header, audit manifest, trailer) becomes an
// ordinary message. The encoder writes a data chunk's message up to its
// payload, so that the payload can follow from the tensor's own memory.
// Both follow protobuf's encoding, so either side may be a plain protobuf
// peer. Stateless; thread-safe.
#ifndef BIOFED_WIRE_UPDATE_CHUNK_CODEC_H_
#define BIOFED_WIRE_UPDATE_CHUNK_CODEC_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "biofed/v1/federation.pb.h"

namespace google::protobuf::io {
class ZeroCopyInputStream;
}  // namespace google::protobuf::io

namespace biofed {

struct UpdateChunkView {
  bool is_data = false;
  // A data chunk (is_data): its place and its bytes, as consecutive pieces
  // that point into the input's buffers.
  uint32_t tensor_index = 0;
  uint64_t offset = 0;
  std::vector<std::string_view> payload;
  std::optional<uint32_t> tensor_crc;  // on a tensor's last chunk
  // Any other chunk: the message (part_case() NOT_SET when it had no part).
  v1::UpdateChunk message;
};

// Decodes the serialized UpdateChunk that is the whole of `in` into `view`
// (which is reset first). The payload pieces stay valid only while `in`'s
// buffers do. INVALID_ARGUMENT for bytes that are not a valid message and
// for a chunk with more than one part (a protobuf parser would keep the
// last; no biofed peer sends two). Unknown fields are skipped.
absl::Status DecodeUpdateChunk(google::protobuf::io::ZeroCopyInputStream* in, UpdateChunkView* view);

// The serialized UpdateChunk{data: TensorData{tensor_index, offset,
// tensor_crc32c, payload}} without the payload's bytes: the whole message
// is this prefix followed by exactly `payload_size` bytes.
std::string DataChunkPrefix(uint32_t tensor_index, uint64_t offset, size_t payload_size,
                            std::optional<uint32_t> tensor_crc);

// The path of the compiled service's SubmitUpdate method for gRPC
// ("/biofed.v1.Federation/SubmitUpdate").
const std::string& SubmitUpdateMethodPath();

}  // namespace biofed

#endif  // BIOFED_WIRE_UPDATE_CHUNK_CODEC_H_
