// Weight rejuvenation (WR). Per layer and call: m = max|W|, sigma = m / d_re
// (+1e-13); each weight is reset to a fresh draw from U(-m, m) with
// probability erfc(|w| / (sigma sqrt 2)) (reference variant: a half-normal
// draw exceeding |w|) or 1 - Phi(|w| / sigma) (paper variant: eq. 3 on the
// magnitude, half the reference's probability). Gradients are
// left as they are. Random draws come from a counter-based stream keyed by
// the client's private seed, so they are reproducible and never stored.
//
// Every pass draws the same counter-based stream (rejuvenation_law.h), so
// the CPU and the GPU reset the same weights to the same values on the same
// seed. On the CPU the pass is one fused, multi-threaded loop; on CUDA, when
// biofed is built with BIOFED_WITH_CUDA, two kernels over all layers at once
// (cuda_rejuvenation.h); on other devices a few tensor operations per layer.
// None synchronises with the host inside a step, and the CUDA pass keeps its
// call counter on the device, so a CUDA graph of a step replays it
// correctly. Not thread-safe; one per training loop.
#ifndef BIOFED_CLIENT_WEIGHT_REJUVENATION_H_
#define BIOFED_CLIENT_WEIGHT_REJUVENATION_H_

#include <cstdint>
#include <memory>
#include <vector>

#include "client/biomod_options.h"
#include "models/model.h"

namespace biofed {

class CudaRejuvenation;

class WeightRejuvenation {
 public:
  // The targets must all live on one device, contiguous float32.
  WeightRejuvenation(const std::vector<NamedTensor>& targets, double d_re,
                     RejuvenationVariant variant, uint64_t seed);
  ~WeightRejuvenation();
  WeightRejuvenation(WeightRejuvenation&&) noexcept;
  WeightRejuvenation& operator=(WeightRejuvenation&&) noexcept;

  // One rejuvenation pass over every target (called once per training step).
  void Apply();

  // Mean fraction of each target's weights reset per pass since the last
  // ResetStatistics() (CUDA graph replays of a pass included). Reads device
  // counters: call between steps.
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
  torch::Tensor device_counts_;        // tensor-operation pass: int64 [targets]
  std::unique_ptr<CudaRejuvenation> cuda_;  // CUDA weights with the kernels built
};

// The fused CPU pass on a contiguous float32 CPU tensor, with the random
// stream (key, subsequence) of rejuvenation_law.h. Returns the number of
// weights reset.
int64_t RejuvenateOnCpu(torch::Tensor& weight, double d_re, RejuvenationVariant variant,
                        uint64_t key, uint64_t subsequence);

// The same pass as tensor operations on any device (same stream, same
// decisions and values as RejuvenateOnCpu). Returns the number of weights
// reset as a 0-dim int64 tensor on the weight's device.
torch::Tensor RejuvenateWithTensorOps(torch::Tensor& weight, double d_re, RejuvenationVariant variant,
                                      uint64_t key, uint64_t subsequence);

// True when this build has the CUDA kernels (BIOFED_WITH_CUDA).
bool RejuvenationKernelsBuilt();

}  // namespace biofed

#endif  // BIOFED_CLIENT_WEIGHT_REJUVENATION_H_
