#include "wire/update_stream.h"

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

namespace biofed {

absl::StatusOr<ReceivedUpdate> ReceiveUpdateBody(const v1::UpdateHeader& header, const UpdateChunkReader& read,
                                                 const TensorTable& schema, const WireLimits& limits) {
  BIOFED_ASSIGN_OR_RETURN(TableAssembler assembler, TableAssembler::Start(header.tensors(), &schema, limits));
  ReceivedUpdate update;
  UpdateChunkView chunk;
  bool trailer = false;
  while (true) {
    BIOFED_ASSIGN_OR_RETURN(const bool more, read(&chunk));
    if (!more) break;
    if (trailer) return absl::InvalidArgumentError("chunk after the trailer");
    if (chunk.is_data) {
      BIOFED_RETURN_IF_ERROR(assembler.Add(chunk.tensor_index, chunk.offset, chunk.payload, chunk.tensor_crc));
      continue;
    }
    switch (chunk.message.part_case()) {
      case v1::UpdateChunk::kAudit:
        if (update.audit) return absl::InvalidArgumentError("two audit manifests in one update");
        update.audit = std::move(*chunk.message.mutable_audit());
        break;
      case v1::UpdateChunk::kTrailer:
        if (chunk.message.trailer().total_bytes() != assembler.bytes_received()) {
          return absl::DataLossError(absl::StrCat("truncated update: the trailer counts ",
                                                  chunk.message.trailer().total_bytes(), " bytes, ",
                                                  assembler.bytes_received(), " arrived"));
        }
        trailer = true;
        break;
      case v1::UpdateChunk::kHeader:
        return absl::InvalidArgumentError("a second header in one update");
      default:
        return absl::InvalidArgumentError("an empty chunk");
    }
  }
  if (!trailer) return absl::DataLossError("truncated update: the stream ended before the trailer");
  BIOFED_ASSIGN_OR_RETURN(update.tensors, assembler.Finish(/*require_finite=*/true));
  return update;
}

}  // namespace biofed
