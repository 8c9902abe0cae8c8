// The settings of DP-SGD in a client's training loop (client/dp_sgd.h).
// Plain data, torch-free; thread-safe.
#ifndef BIOFED_CLIENT_DP_SGD_OPTIONS_H_
#define BIOFED_CLIENT_DP_SGD_OPTIONS_H_

#include "absl/status/status.h"

namespace biofed {

struct DpSgdOptions {
  double clip = 0;              // C > 0; 0 turns DP-SGD off
  double noise_multiplier = 0;  // sigma >= 0
  bool enabled() const { return clip > 0; }
};

// INVALID_ARGUMENT for C < 0, sigma < 0, or non-finite values.
absl::Status ValidateDpSgd(const DpSgdOptions& options);

}  // namespace biofed

#endif  // BIOFED_CLIENT_DP_SGD_OPTIONS_H_
