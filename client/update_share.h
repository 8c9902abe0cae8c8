// What a client sends per parameter after its local work: the pseudo-
// gradient (w_global - w_local) / lr after its K steps, which carries WR's
// resets, or the gradient its optimizer applied in its one step (after FL,
// without WR). Torch-free; thread-safe.
#ifndef BIOFED_CLIENT_UPDATE_SHARE_H_
#define BIOFED_CLIENT_UPDATE_SHARE_H_

#include <string>

#include "absl/status/statusor.h"

namespace biofed {

enum class SharedKind {
  kGradient,        // the gradient the client's optimizer applied (after FL)
  kPseudoGradient,  // (w_before - w_after) / lr after the client's local steps
};

std::string SharedKindName(SharedKind kind);  // "gradient" or "pseudo_gradient"
absl::StatusOr<SharedKind> ParseSharedKind(const std::string& name);

}  // namespace biofed

#endif  // BIOFED_CLIENT_UPDATE_SHARE_H_
