// The privacy budget of DP-SGD: Rényi-DP accounting of the Poisson-subsampled
// Gaussian mechanism (Mironov, Talwar and Zhang 2019, "Rényi Differential
// Privacy of the Sampled Gaussian Mechanism", section 3.3), at integer
// orders, converted to (epsilon, delta) by Mironov 2017, proposition 3:
//   epsilon = min over orders a of  rdp(a) + log(1 / delta) / (a - 1).
// That conversion is the one TensorFlow Privacy's accountant published its
// reference values with; tighter conversions exist (Balle et al. 2020) and
// would give a smaller epsilon, so the figure here is an upper bound.
// Torch-free and thread-safe.
#ifndef BIOFED_CLIENT_DP_ACCOUNTING_H_
#define BIOFED_CLIENT_DP_ACCOUNTING_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"

namespace biofed {

// DP-SGD as the accountant sees it: `steps` releases, each of a sum over a
// Poisson sample of the data (each example in with probability
// `sampling_rate`) of per-example gradients clipped to L2 norm C, plus
// N(0, (noise_multiplier * C)^2) noise per coordinate.
struct SampledGaussian {
  double sampling_rate = 0;     // q in [0, 1]
  double noise_multiplier = 0;  // sigma > 0
  int64_t steps = 0;            // >= 0
};

// The Rényi-DP of `mechanism` composed over its steps, at each of `orders`
// (integers >= 2). INVALID_ARGUMENT outside the ranges above.
absl::StatusOr<std::vector<double>> SampledGaussianRdp(const SampledGaussian& mechanism,
                                                       const std::vector<int>& orders);

struct PrivacySpent {
  double epsilon = 0;
  int order = 0;  // the order at which the minimum was reached
};

// (epsilon, delta)-DP from Rényi-DP values at `orders`. INVALID_ARGUMENT for
// delta outside (0, 1) or mismatched lists.
absl::StatusOr<PrivacySpent> EpsilonFromRdp(const std::vector<int>& orders, const std::vector<double>& rdp,
                                            double delta);

// The orders searched by default: 2 to 64, then 128 and 256.
std::vector<int> DefaultRdpOrders();

// SampledGaussianRdp at DefaultRdpOrders(), converted at `delta`.
absl::StatusOr<PrivacySpent> DpSgdEpsilon(const SampledGaussian& mechanism, double delta);

}  // namespace biofed

#endif  // BIOFED_CLIENT_DP_ACCOUNTING_H_
