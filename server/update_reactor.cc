#include "server/update_reactor.h"

#include <grpcpp/support/proto_buffer_reader.h>

#include <vector>

#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "common/status_macros.h"
#include "wire/byte_buffers.h"
#include "wire/grpc_status.h"

namespace biofed {
namespace {

constexpr char kLog[] = "server";

class RefusedRead final : public grpc::ServerReadReactor<grpc::ByteBuffer> {
 public:
  explicit RefusedRead(const grpc::Status& status) { Finish(status); }
  void OnDone() override { delete this; }
};

}  // namespace

std::shared_ptr<ArrivingUpdates::Slot> ArrivingUpdates::Add(UpdateReactor* reactor) {
  auto slot = std::make_shared<Slot>();
  slot->reactor = reactor;
  std::lock_guard<std::mutex> lock(mutex_);
  slots_.insert(slot);
  return slot;
}

void ArrivingUpdates::Remove(const std::shared_ptr<Slot>& slot) {
  std::lock_guard<std::mutex> lock(mutex_);
  slots_.erase(slot);
}

void ArrivingUpdates::EndThoseBefore(int64_t current) {
  std::vector<std::shared_ptr<Slot>> slots;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    slots.assign(slots_.begin(), slots_.end());
  }
  for (const std::shared_ptr<Slot>& slot : slots) {
    std::lock_guard<std::recursive_mutex> lock(slot->mutex);
    if (slot->reactor != nullptr) slot->reactor->EndIfBefore(current);
  }
}

UpdateReactor::UpdateReactor(FederationCore* core, ArrivingUpdates* arriving, std::string principal,
                             grpc::ByteBuffer* reply)
    : core_(core), arriving_(arriving), principal_(std::move(principal)), reply_(reply) {
  slot_ = arriving_->Add(this);  // once every member is built: the sweeper may look at it from now on
  StartRead(&message_);
}

void UpdateReactor::OnDone() {
  const std::shared_ptr<ArrivingUpdates::Slot> slot = slot_;
  {
    std::lock_guard<std::recursive_mutex> lock(slot->mutex);
    slot->reactor = nullptr;
  }
  arriving_->Remove(slot);
  delete this;
}

void UpdateReactor::EndIfBefore(int64_t current) {
  if (concluded_ || !body_ || header_.round() >= current) return;
  body_.reset();  // the assembly buffer goes now, not when the client gives up
  Conclude(absl::FailedPreconditionError(
      absl::StrCat("round ", header_.round(), " closed while this update was still arriving")));
}

grpc::ServerReadReactor<grpc::ByteBuffer>* UpdateReactor::Refuse(const grpc::Status& status) {
  return new RefusedRead(status);
}

void UpdateReactor::OnReadDone(bool ok) {
  // A local owner: Finish may run OnDone, which deletes this, inline.
  const std::shared_ptr<ArrivingUpdates::Slot> slot = slot_;
  std::lock_guard<std::recursive_mutex> lock(slot->mutex);
  if (concluded_) return;  // ended as stale: this read was cancelled
  if (!ok) return Conclude(Accept());
  const absl::Status taken = TakeMessage();
  message_.Clear();
  if (!taken.ok()) return Conclude(taken);
  StartRead(&message_);
}

absl::Status UpdateReactor::TakeMessage() {
  // A data chunk's payload points into `message_` (or into `input`'s
  // decompressed copy of it) until `input` goes.
  grpc::ProtoBufferReader input(&message_);
  if (!input.status().ok()) return absl::InvalidArgumentError("an update chunk that cannot be read");
  BIOFED_RETURN_IF_ERROR(DecodeUpdateChunk(&input, &chunk_));
  if (body_) return body_->Add(&chunk_);
  return TakeHeader();
}

absl::Status UpdateReactor::TakeHeader() {
  if (chunk_.is_data || !chunk_.message.has_header()) {
    return absl::InvalidArgumentError("the first chunk of an update must be its header");
  }
  header_ = std::move(*chunk_.message.mutable_header());
  BIOFED_RETURN_IF_ERROR(core_->CheckSubmission(principal_, header_));
  BIOFED_ASSIGN_OR_RETURN(UpdateReceiver body,
                          UpdateReceiver::Start(header_, core_->update_schema(), core_->config().limits));
  body_.emplace(std::move(body));
  return absl::OkStatus();
}

absl::Status UpdateReactor::Accept() {
  if (!body_) return absl::DataLossError("truncated update: the stream ended before the header");
  BIOFED_ASSIGN_OR_RETURN(ReceivedUpdate update, body_->Finish());
  return core_->AcceptUpdate(principal_, header_, std::move(update.tensors), std::move(update.audit));
}

void UpdateReactor::Conclude(const absl::Status& status) {
  concluded_ = true;
  if (!status.ok()) {
    core_->CountRejection();
    LogWarning(kLog, absl::StrCat("rejected an update from '", principal_, "': ", status.ToString()));
    Finish(ToGrpcStatus(status));
    return;
  }
  v1::SubmitReply reply;
  reply.set_accepted(true);
  reply.set_round(core_->completed_rounds() + 1);
  *reply_ = SerializeToByteBuffer(reply);
  Finish(grpc::Status::OK);
}

}  // namespace biofed
