// Protobuf messages in and out of gRPC byte buffers, for the calls that
// exchange raw messages (SubmitUpdate on both sides). Stateless;
// thread-safe.
#ifndef BIOFED_WIRE_BYTE_BUFFERS_H_
#define BIOFED_WIRE_BYTE_BUFFERS_H_

#include <google/protobuf/message_lite.h>
#include <grpcpp/support/byte_buffer.h>

#include "absl/status/status.h"

namespace biofed {

// `message` serialized into a new buffer.
grpc::ByteBuffer SerializeToByteBuffer(const google::protobuf::MessageLite& message);

// Parses the whole of `buffer` into `message`. INVALID_ARGUMENT when the
// bytes are not such a message.
absl::Status ParseFromByteBuffer(grpc::ByteBuffer* buffer, google::protobuf::MessageLite* message);

}  // namespace biofed

#endif  // BIOFED_WIRE_BYTE_BUFFERS_H_
