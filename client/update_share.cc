#include "client/update_share.h"

#include "absl/strings/str_cat.h"

namespace biofed {

std::string SharedKindName(SharedKind kind) {
  switch (kind) {
    case SharedKind::kGradient: return "gradient";
    case SharedKind::kPseudoGradient: return "pseudo_gradient";
    case SharedKind::kRaw: return "raw";
  }
  return "unknown";
}

bool IsOneStepShare(SharedKind kind) { return kind != SharedKind::kPseudoGradient; }

absl::StatusOr<SharedKind> ParseSharedKind(const std::string& name) {
  if (name == "gradient") return SharedKind::kGradient;
  if (name == "pseudo_gradient") return SharedKind::kPseudoGradient;
  if (name == "raw") return SharedKind::kRaw;
  return absl::InvalidArgumentError(
      absl::StrCat("unknown share '", name, "': expected gradient, pseudo_gradient or raw"));
}

}  // namespace biofed
