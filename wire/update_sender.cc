#include "wire/update_sender.h"

#include <grpcpp/support/byte_buffer.h>
#include <grpcpp/impl/codegen/proto_utils.h>
#include <grpcpp/support/sync_stream.h>

#include "wire/grpc_status.h"
#include "wire/update_chunk_codec.h"

namespace biofed {
namespace {

grpc::ByteBuffer Serialized(const v1::UpdateChunk& chunk) {
  grpc::ByteBuffer buffer;
  bool own_buffer = false;
  (void)grpc::SerializationTraits<v1::UpdateChunk>::Serialize(chunk, &buffer, &own_buffer);
  return buffer;
}

// A slice over `bytes`, which live inside `*owner`: the slice holds its own
// reference to the table until gRPC releases the slice.
grpc::Slice BorrowedSlice(const std::shared_ptr<const TensorTable>& owner, std::string_view bytes) {
  auto* reference = new std::shared_ptr<const TensorTable>(owner);
  return grpc::Slice(const_cast<char*>(bytes.data()), bytes.size(),
                     [](void* p) { delete static_cast<std::shared_ptr<const TensorTable>*>(p); }, reference);
}

}  // namespace

absl::Status SendUpdate(grpc::ChannelInterface* channel, grpc::ClientContext* context, v1::UpdateHeader header,
                        std::shared_ptr<const TensorTable> update, const v1::AuditManifest* manifest,
                        size_t chunk_bytes, v1::SubmitReply* reply) {
  // The generated stub's writer would copy each payload into a message and
  // again into gRPC's buffers; a writer of raw byte buffers copies nothing.
  const grpc::internal::RpcMethod method(SubmitUpdateMethodPath().c_str(),
                                         grpc::internal::RpcMethod::CLIENT_STREAMING);
  std::unique_ptr<grpc::ClientWriter<grpc::ByteBuffer>> writer(
      grpc::internal::ClientWriterFactory<grpc::ByteBuffer>::Create(channel, method, context, reply));
  header.clear_tensors();
  DescribeTable(*update, header.mutable_tensors());
  v1::UpdateChunk first;
  *first.mutable_header() = std::move(header);
  bool ok = writer->Write(Serialized(first));
  uint64_t total = 0;
  // buffer_hint: a chunk need not reach the wire before Write returns, so
  // the next one is prepared while the transport sends (the trailer, sent
  // without the hint, flushes them all).
  ok = ok && ForEachChunk(*update, chunk_bytes, [&](const TensorChunk& chunk) {
         const grpc::Slice parts[2] = {
             grpc::Slice(DataChunkPrefix(chunk.tensor_index, chunk.offset, chunk.bytes.size(), chunk.tensor_crc)),
             BorrowedSlice(update, chunk.bytes)};
         total += chunk.bytes.size();
         return writer->Write(grpc::ByteBuffer(parts, 2), grpc::WriteOptions().set_buffer_hint());
       });
  if (ok && manifest != nullptr) {
    v1::UpdateChunk audit;
    *audit.mutable_audit() = *manifest;
    ok = writer->Write(Serialized(audit));
  }
  if (ok) {
    v1::UpdateChunk trailer;
    trailer.mutable_trailer()->set_total_bytes(total);
    writer->Write(Serialized(trailer));
  }
  writer->WritesDone();
  return FromGrpcStatus(writer->Finish());
}

}  // namespace biofed
