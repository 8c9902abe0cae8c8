#include "wire/update_stream.h"

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

namespace biofed {

absl::StatusOr<UpdateReceiver> UpdateReceiver::Start(const v1::UpdateHeader& header, const TensorTable& schema,
                                                     const WireLimits& limits) {
  BIOFED_ASSIGN_OR_RETURN(TableAssembler assembler, TableAssembler::Start(header.tensors(), &schema, limits));
  return UpdateReceiver(std::move(assembler));
}

absl::Status UpdateReceiver::Add(UpdateChunkView* chunk) {
  if (trailer_) return absl::InvalidArgumentError("chunk after the trailer");
  if (chunk->is_data) return assembler_.Add(chunk->tensor_index, chunk->offset, chunk->payload, chunk->tensor_crc);
  switch (chunk->message.part_case()) {
    case v1::UpdateChunk::kAudit:
      if (audit_) return absl::InvalidArgumentError("two audit manifests in one update");
      audit_ = std::move(*chunk->message.mutable_audit());
      return absl::OkStatus();
    case v1::UpdateChunk::kTrailer:
      if (chunk->message.trailer().total_bytes() != assembler_.bytes_received()) {
        return absl::DataLossError(absl::StrCat("truncated update: the trailer counts ",
                                                chunk->message.trailer().total_bytes(), " bytes, ",
                                                assembler_.bytes_received(), " arrived"));
      }
      trailer_ = true;
      return absl::OkStatus();
    case v1::UpdateChunk::kHeader:
      return absl::InvalidArgumentError("a second header in one update");
    default:
      return absl::InvalidArgumentError("an empty chunk");
  }
}

absl::StatusOr<ReceivedUpdate> UpdateReceiver::Finish() {
  if (!trailer_) return absl::DataLossError("truncated update: the stream ended before the trailer");
  ReceivedUpdate update;
  BIOFED_ASSIGN_OR_RETURN(update.tensors, assembler_.Finish(/*require_finite=*/true));
  update.audit = std::move(audit_);
  return update;
}

}  // namespace biofed
