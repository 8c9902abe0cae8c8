// What a client sends per parameter after its local work: the pseudo-
// gradient (w_global - w_local) / lr after its K steps, which carries WR's
// resets; the gradient its optimizer applied in its one step (after FL,
// without WR); or the raw autograd gradient of its one step (before FL and
// WR: the paper's setting, an attacker who taps the client). Torch-free;
// thread-safe.
#ifndef BIOFED_CLIENT_UPDATE_SHARE_H_
#define BIOFED_CLIENT_UPDATE_SHARE_H_

#include <string>

#include "absl/status/statusor.h"

namespace biofed {

enum class SharedKind {
  kGradient,        // the gradient the client's optimizer applied (after FL)
  kPseudoGradient,  // (w_before - w_after) / lr after the client's local steps
  kRaw,             // the batch gradient of the one step before FL and WR (with DP-SGD: its clipped, noised one)
};

std::string SharedKindName(SharedKind kind);  // "gradient", "pseudo_gradient" or "raw"

// True for the shares of exactly one step (gradient, raw).
bool IsOneStepShare(SharedKind kind);
absl::StatusOr<SharedKind> ParseSharedKind(const std::string& name);

}  // namespace biofed

#endif  // BIOFED_CLIENT_UPDATE_SHARE_H_
