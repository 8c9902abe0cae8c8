#include "wire/update_sender.h"

#include <grpcpp/completion_queue.h>
#include <grpcpp/support/byte_buffer.h>

#include "wire/byte_buffers.h"
#include "wire/grpc_status.h"
#include "wire/update_chunk_codec.h"

namespace biofed {
namespace {

// One SubmitUpdate call on a completion queue of its own: each operation
// is awaited before the next one starts, as in gRPC's synchronous streams.
// A write fails (false) once the call has ended; Finish then says why.
class UpdateCall {
 public:
  UpdateCall(grpc::GenericStub& stub, grpc::ClientContext* context)
      : stream_(stub.PrepareCall(context, SubmitUpdateMethodPath(), &queue_)) {
    if (stream_ != nullptr) {
      stream_->StartCall(this);
      started_ = Await();
    }
  }

  ~UpdateCall() {
    queue_.Shutdown();
    void* tag = nullptr;
    bool ok = false;
    while (queue_.Next(&tag, &ok)) {
    }
  }

  bool Write(const grpc::ByteBuffer& message, grpc::WriteOptions options = grpc::WriteOptions()) {
    if (!started_) return false;
    stream_->Write(message, options, this);
    return Await();
  }

  // Half-closes the call and reads the server's verdict into `reply`.
  absl::Status Finish(v1::SubmitReply* reply) {
    if (stream_ == nullptr) return absl::InternalError("gRPC could not set up the SubmitUpdate call");
    grpc::ByteBuffer answer;
    bool answered = false;
    if (started_) {
      stream_->WritesDone(this);
      Await();
      stream_->Read(&answer, this);
      answered = Await();
    }
    grpc::Status status;
    stream_->Finish(&status, this);
    Await();
    if (!status.ok()) return FromGrpcStatus(status);
    if (!answered) return absl::InternalError("the server accepted the update without a reply");
    const absl::Status parsed = ParseFromByteBuffer(&answer, reply);
    if (!parsed.ok()) return absl::InternalError(parsed.message());
    return absl::OkStatus();
  }

 private:
  // Waits for the operation in flight; whether it succeeded.
  bool Await() {
    void* tag = nullptr;
    bool ok = false;
    return queue_.Next(&tag, &ok) && ok;
  }

  grpc::CompletionQueue queue_;
  const std::unique_ptr<grpc::GenericClientAsyncReaderWriter> stream_;
  bool started_ = false;
};

// A slice over `bytes`, which live inside `*owner`: the slice holds its own
// reference to the table until gRPC releases the slice.
grpc::Slice BorrowedSlice(const std::shared_ptr<const TensorTable>& owner, std::string_view bytes) {
  auto* reference = new std::shared_ptr<const TensorTable>(owner);
  return grpc::Slice(const_cast<char*>(bytes.data()), bytes.size(),
                     [](void* p) { delete static_cast<std::shared_ptr<const TensorTable>*>(p); }, reference);
}

grpc::ByteBuffer DataChunk(const std::shared_ptr<const TensorTable>& update, const TensorChunk& chunk) {
  const grpc::Slice parts[2] = {
      grpc::Slice(DataChunkPrefix(chunk.tensor_index, chunk.offset, chunk.bytes.size(), chunk.tensor_crc)),
      BorrowedSlice(update, chunk.bytes)};
  return grpc::ByteBuffer(parts, 2);
}

}  // namespace

absl::Status SendUpdate(grpc::GenericStub& stub, grpc::ClientContext* context, v1::UpdateHeader header,
                        std::shared_ptr<const TensorTable> update, const v1::AuditManifest* manifest,
                        size_t chunk_bytes, v1::SubmitReply* reply) {
  UpdateCall call(stub, context);
  header.clear_tensors();
  DescribeTable(*update, header.mutable_tensors());
  v1::UpdateChunk first;
  *first.mutable_header() = std::move(header);
  bool ok = call.Write(SerializeToByteBuffer(first));
  uint64_t total = 0;
  // buffer_hint: a chunk need not reach the wire before Write returns, so
  // the next one is prepared while the transport sends (the trailer, sent
  // without the hint, flushes them all).
  ok = ok && ForEachChunk(*update, chunk_bytes, [&](const TensorChunk& chunk) {
         total += chunk.bytes.size();
         return call.Write(DataChunk(update, chunk), grpc::WriteOptions().set_buffer_hint());
       });
  if (ok && manifest != nullptr) {
    v1::UpdateChunk audit;
    *audit.mutable_audit() = *manifest;
    ok = call.Write(SerializeToByteBuffer(audit));
  }
  if (ok) {
    v1::UpdateChunk trailer;
    trailer.mutable_trailer()->set_total_bytes(total);
    call.Write(SerializeToByteBuffer(trailer));
  }
  return call.Finish(reply);
}

}  // namespace biofed
