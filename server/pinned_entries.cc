#include "server/pinned_entries.h"

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

namespace biofed {

absl::Status CheckPinnedEntries(const TensorTable& model, const TensorTable& pinned) {
  for (const HostTensor& p : pinned) {
    const HostTensor* entry = FindTensor(model, p.name);
    if (entry == nullptr) return absl::InvalidArgumentError(absl::StrCat("pinned entry ", p.name, " is not in the model"));
    if (entry->dtype != p.dtype || entry->shape != p.shape || entry->role != p.role ||
        entry->bytes.size() != p.bytes.size()) {
      return absl::InvalidArgumentError(absl::StrCat("pinned entry ", p.name, " is ", DTypeName(p.dtype), " ",
                                                     ShapeString(p.shape), ", the model's is ", DTypeName(entry->dtype),
                                                     " ", ShapeString(entry->shape), " (or another role)"));
    }
  }
  return absl::OkStatus();
}

absl::Status WritePinnedEntries(const TensorTable& pinned, TensorTable& model) {
  BIOFED_RETURN_IF_ERROR(CheckPinnedEntries(model, pinned));
  for (const HostTensor& p : pinned) {
    for (HostTensor& entry : model) {
      if (entry.name == p.name) entry.bytes = p.bytes;
    }
  }
  return absl::OkStatus();
}

}  // namespace biofed
