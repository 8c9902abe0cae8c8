// Weight rejuvenation (WR). Per layer and call: m = max|W|, sigma = m / d_re
// (+1e-13); each weight is reset to a fresh draw from U(-m, m) with
// probability erfc(|w| / (sigma sqrt 2)) (reference variant: a half-normal
// draw exceeding |w|) or 1 - Phi(w / sigma) (paper variant). Gradients are
// left as they are. Random draws come from a counter-based stream keyed by
// the client's private seed, so they are reproducible and never stored.
//
// On the CPU the pass is one fused, multi-threaded loop; elsewhere (CUDA) it
// is a few tensor operations on the weight's device with a device generator
// seeded from the same seed. Both draw from the same law; their random
// streams differ. Neither synchronises with the host inside a step.
// Not thread-safe; one per training loop.
#ifndef BIOFED_CLIENT_WEIGHT_REJUVENATION_H_
#define BIOFED_CLIENT_WEIGHT_REJUVENATION_H_

#include <cstdint>
#include <vector>

#include <ATen/core/Generator.h>

#include "client/biomod_options.h"
#include "models/model.h"

namespace biofed {

class WeightRejuvenation {
 public:
  WeightRejuvenation(const std::vector<NamedTensor>& targets, double d_re,
                     RejuvenationVariant variant, uint64_t seed);

  // One rejuvenation pass over every target (called once per training step).
  void Apply();

  // Mean fraction of each target's weights reset per call since the last
  // ResetStatistics(). Reads device counters: call between steps.
  std::vector<double> MeanResetFractions() const;
  void ResetStatistics();

 private:
  std::vector<torch::Tensor> weights_;
  double d_re_;
  RejuvenationVariant variant_;
  uint64_t seed_;
  uint64_t calls_ = 0;
  uint64_t calls_since_reset_ = 0;
  std::vector<int64_t> host_counts_;   // CPU weights
  torch::Tensor device_counts_;        // other devices: int64 [targets]
  std::vector<at::Generator> generators_;
};

// The fused CPU pass on a contiguous float32 CPU tensor, with the random
// stream (key, subsequence): weight i uses the 64-bit word
// SplitMix64(SplitMix64(key ^ SplitMix64(subsequence)) + i * 0x9e3779b97f4a7c15),
// whose high 32 bits u decide
// (reset iff (u + 0.5) / 2^32 < P(reset)) and whose low 32 bits v give the
// new value m * (2 (v + 0.5) / 2^32 - 1). Returns the number of weights reset.
int64_t RejuvenateOnCpu(torch::Tensor& weight, double d_re, RejuvenationVariant variant,
                        uint64_t key, uint64_t subsequence);

// The tensor-operation pass for any device. Returns the number of weights
// reset as a 0-dim int64 tensor on the weight's device.
torch::Tensor RejuvenateWithTensorOps(torch::Tensor& weight, double d_re,
                                      RejuvenationVariant variant, at::Generator& generator);

}  // namespace biofed

#endif  // BIOFED_CLIENT_WEIGHT_REJUVENATION_H_
