#include "client/update_share.h"

#include "absl/strings/str_cat.h"

namespace biofed {

std::string SharedKindName(SharedKind kind) {
  return kind == SharedKind::kGradient ? "gradient" : "pseudo_gradient";
}

absl::StatusOr<SharedKind> ParseSharedKind(const std::string& name) {
  if (name == "gradient") return SharedKind::kGradient;
  if (name == "pseudo_gradient") return SharedKind::kPseudoGradient;
  return absl::InvalidArgumentError(absl::StrCat("unknown share '", name, "': expected gradient or pseudo_gradient"));
}

}  // namespace biofed
