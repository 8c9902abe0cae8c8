#include "wire/byte_buffers.h"

#include <grpcpp/support/proto_buffer_reader.h>
#include <grpcpp/support/proto_buffer_writer.h>

namespace biofed {

grpc::ByteBuffer SerializeToByteBuffer(const google::protobuf::MessageLite& message) {
  grpc::ByteBuffer buffer;
  grpc::ProtoBufferWriter writer(&buffer, grpc::kProtoBufferWriterMaxBufferLength,
                                 static_cast<int>(message.ByteSizeLong()));
  // Fails only for a message over 2 GiB or missing proto2 required fields;
  // the messages sent this way are proto3 and at most a few KiB.
  (void)message.SerializeToZeroCopyStream(&writer);
  return buffer;
}

absl::Status ParseFromByteBuffer(grpc::ByteBuffer* buffer, google::protobuf::MessageLite* message) {
  grpc::ProtoBufferReader reader(buffer);
  if (!reader.status().ok() || !message->ParseFromZeroCopyStream(&reader)) {
    return absl::InvalidArgumentError("a message that cannot be parsed as " + message->GetTypeName());
  }
  return absl::OkStatus();
}

}  // namespace biofed
