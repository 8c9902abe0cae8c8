// Weight rejuvenation of CUDA weights through the kernels of
// rejuvenation_kernels.cu: one pass over all layers in four launches on the
// current CUDA stream, counters on the device, no host synchronisation.
// Built only with BIOFED_WITH_CUDA; WeightRejuvenation is its one user.
// Not thread-safe.
#ifndef BIOFED_CLIENT_CUDA_REJUVENATION_H_
#define BIOFED_CLIENT_CUDA_REJUVENATION_H_

#include <cstdint>
#include <vector>

#include <torch/types.h>

#include "client/biomod_options.h"
#include "client/rejuvenation_kernels.h"

namespace biofed {

class CudaRejuvenation {
 public:
  // `weights`: contiguous float32 tensors on one CUDA device; `key` is the
  // client's WR key (rejuvenation_law.h). Throws c10::Error otherwise.
  CudaRejuvenation(std::vector<torch::Tensor> weights, double d_re, RejuvenationVariant variant,
                   uint64_t key);

  void Apply();

  // Mean fraction of each layer's weights reset per pass since the last
  // ResetCounts(), from the device's counters (graph replays included).
  // Synchronises with the device.
  std::vector<double> MeanResetFractions() const;
  void ResetCounts();

 private:
  std::vector<torch::Tensor> weights_;
  double d_re_;
  bool reference_;
  uint64_t key_;
  torch::Tensor max_abs_;  // float32 [layers], scratch
  torch::Tensor resets_;   // int64 [layers]
  torch::Tensor calls_;    // int64 [2]: passes in all, passes since ResetCounts()
  std::vector<RejuvenationLayerView> views_;
};

}  // namespace biofed

#endif  // BIOFED_CLIENT_CUDA_REJUVENATION_H_
