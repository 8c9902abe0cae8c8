// The bound on the L2 norm of one client's update (--max-update-norm): an
// update far larger than any honest one would otherwise own the aggregate.
// The norm covers every value the update carries (parameters'
// pseudo-gradients and float buffers' new values), accumulated in double.
// Pure functions; thread-safe.
#ifndef BIOFED_SERVER_UPDATE_NORM_H_
#define BIOFED_SERVER_UPDATE_NORM_H_

#include <string>

#include "absl/status/statusor.h"
#include "wire/host_tensor.h"

namespace biofed {

// What happens to an update whose norm is above the bound.
enum class UpdateNormPolicy { kReject, kClip };

// "reject" or "clip"; INVALID_ARGUMENT otherwise.
absl::StatusOr<UpdateNormPolicy> ParseUpdateNormPolicy(const std::string& name);

// Which values of an update a norm covers: all float values, or only the
// parameters' (the pseudo-gradient, without buffers' new values).
enum class NormScope { kAllValues, kParameters };

// The L2 norm of the float32 and float64 values of `update` in `scope`;
// +infinity when the sum of squares overflows a double.
double UpdateNorm(const TensorTable& update, NormScope scope = NormScope::kAllValues);

// Multiplies the float values of `update` in `scope` by `factor`.
void ScaleUpdate(TensorTable& update, double factor, NormScope scope = NormScope::kAllValues);

struct BoundedNorm {
  double norm = 0;       // of the update as it arrived (with no bound: of its float64 tensors)
  bool clipped = false;  // scaled down to `max_norm`
};

// Applies the bound to `update`. `max_norm` 0 means no bound beyond a finite
// norm; then only float64 tensors are read, since float32 values cannot
// make the sum overflow (at most 2^29 of them, each square below 1.2e77),
// and the hot path of a float32 model pays nothing. INVALID_ARGUMENT when the norm is not finite (whatever the policy),
// or above `max_norm` under kReject; under kClip such an update is scaled
// by max_norm / norm in place and reported as clipped.
absl::StatusOr<BoundedNorm> BoundUpdateNorm(TensorTable& update, double max_norm, UpdateNormPolicy policy);

}  // namespace biofed

#endif  // BIOFED_SERVER_UPDATE_NORM_H_
