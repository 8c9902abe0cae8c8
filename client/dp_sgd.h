// DP-SGD's gradient (Abadi et al. 2016, algorithm 1) for one batch of B
// examples: each example's gradient over all parameters jointly clipped to
// L2 norm C, the clipped gradients summed, N(0, (sigma C)^2) noise added to
// every coordinate, the result divided by B. It replaces the batch gradient
// in the client's training step; FL, WR and the optimizer then act on it as
// on any gradient. The noise comes from the client's seed (its own stream).
// Models with BatchNorm are refused: their running statistics are computed
// from the examples and released without noise. Not thread-safe.
#ifndef BIOFED_CLIENT_DP_SGD_H_
#define BIOFED_CLIENT_DP_SGD_H_

#include <cstdint>

#include <torch/torch.h>

#include "absl/status/status.h"
#include "client/dp_sgd_options.h"
#include "models/model.h"

namespace biofed {
// FAILED_PRECONDITION when `model` has buffers (BatchNorm statistics).
absl::Status CheckDpSgdApplies(const Model& model);

class DpSgdGradient {
 public:
  DpSgdGradient(DpSgdOptions options, uint64_t seed);

  // Writes the DP-SGD gradient of the mean cross-entropy into the `.grad()`
  // of every parameter of `model` and returns the batch's logits (computed
  // one example at a time, detached). One forward and one backward pass per
  // example; no host synchronisation.
  torch::Tensor Compute(const Model& model, const torch::Tensor& images, const torch::Tensor& labels);

  // Each example's clipped gradient, summed, before noise (for tests).
  std::vector<torch::Tensor> ClippedSum(const Model& model, const torch::Tensor& images, const torch::Tensor& labels,
                                        torch::Tensor* logits);

 private:
  DpSgdOptions options_;
  at::Generator noise_;
};

}  // namespace biofed

#endif  // BIOFED_CLIENT_DP_SGD_H_
