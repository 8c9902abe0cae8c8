// Standard defenses a client applies to its update before sending it, the
// baselines biomod must beat ("better than plain noise?"):
//   clipped Gaussian noise  "noise:C:SIGMA": scale the parameter entries so
//     their joint L2 norm is at most C, then add N(0, (SIGMA*C)^2) to every
//     coordinate (the DP-SGD mechanism applied per update);
//   top-k pruning  "topk:F": in each parameter tensor keep the
//     ceil(F * n) entries of largest magnitude and zero the rest.
// They act on parameter entries only (buffers such as BatchNorm statistics
// are left alone), on host tensors, so they are torch-free and applied the
// same way in the sweep's training federation and to the attacked update.
// Deterministic given the seed; thread-safe.
#ifndef BIOFED_SWEEP_DEFENSE_H_
#define BIOFED_SWEEP_DEFENSE_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "wire/host_tensor.h"

namespace biofed {

struct Defense {
  enum class Kind { kNone, kClippedNoise, kTopK };
  Kind kind = Kind::kNone;
  double clip = 0;      // C
  double sigma = 0;     // noise multiplier
  double fraction = 1;  // top-k keep fraction
};

// INVALID_ARGUMENT for anything but the forms above with C > 0, SIGMA >= 0
// and 0 < F <= 1.
absl::StatusOr<Defense> ParseDefense(const std::string& spec);
std::string DefenseName(const Defense& defense);

// Applies `defense` to the float32 parameter tensors of `update` in place.
// INVALID_ARGUMENT when a parameter tensor is not float32.
absl::Status ApplyDefense(const Defense& defense, uint64_t seed, TensorTable& update);

}  // namespace biofed

#endif  // BIOFED_SWEEP_DEFENSE_H_
