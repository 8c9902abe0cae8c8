// Standard defenses a client applies to its update before sending it, the
// baselines biomod must beat ("better than plain noise?"):
//   clipped Gaussian noise  "noise:C:SIGMA": scale the parameter entries so
//     their joint L2 norm is at most C, then add N(0, (SIGMA*C)^2) to every
//     coordinate (the DP-SGD mechanism applied per update);
//   top-k pruning  "topk:F": in each parameter tensor keep the
//     ceil(F * n) entries of largest magnitude and zero the rest;
//   DP-SGD  "dp:C:SIGMA": not applied to the update but inside the client's
//     training loop (client/dp_sgd.h): each example's gradient clipped to C,
//     N(0, (SIGMA*C)^2) added to their sum; ClientDpSgd gives its settings
//     and ApplyDefense leaves the update alone. Models without BatchNorm only.
// They act on parameter entries only (buffers such as BatchNorm statistics
// are left alone), on host tensors, so they are torch-free and applied the
// same way in the sweep's training federation and to the attacked update.
// Deterministic given the seed; thread-safe.
#ifndef BIOFED_SWEEP_DEFENSE_H_
#define BIOFED_SWEEP_DEFENSE_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "client/dp_sgd_options.h"
#include "wire/host_tensor.h"

namespace biofed {

struct Defense {
  enum class Kind { kNone, kClippedNoise, kTopK, kDpSgd };
  Kind kind = Kind::kNone;
  double clip = 0;      // C
  double sigma = 0;     // noise multiplier
  double fraction = 1;  // top-k keep fraction
};

// INVALID_ARGUMENT for anything but the forms above with C > 0, SIGMA >= 0
// and 0 < F <= 1 (SIGMA > 0 for dp: without noise there is no guarantee).
absl::StatusOr<Defense> ParseDefense(const std::string& spec);
std::string DefenseName(const Defense& defense);

// The DP-SGD settings of the client's training loop: enabled for dp:C:SIGMA,
// off for every other defense.
DpSgdOptions ClientDpSgd(const Defense& defense);

// The delta at which the sweep states DP-SGD's epsilon.
inline constexpr double kSweepDpDelta = 1e-5;

// DP-SGD's epsilon at kSweepDpDelta (client/dp_accounting.h) for `steps`
// steps, each on a batch that holds a given example with probability
// `sampling_rate`; +infinity (no guarantee) for any other defense.
absl::StatusOr<double> DefenseEpsilon(const Defense& defense, double sampling_rate, int64_t steps);

// Applies `defense` to the float32 parameter tensors of `update` in place.
// INVALID_ARGUMENT when a parameter tensor is not float32.
absl::Status ApplyDefense(const Defense& defense, uint64_t seed, TensorTable& update);

}  // namespace biofed

#endif  // BIOFED_SWEEP_DEFENSE_H_
