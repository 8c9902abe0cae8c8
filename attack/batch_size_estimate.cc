#include "attack/batch_size_estimate.h"

#include <algorithm>

#include <torch/torch.h>

namespace biofed {

BatchSizeEstimate EstimateBatchSize(const Model& model, const std::vector<at::Tensor>& target) {
  torch::NoGradGuard no_grad;
  const std::optional<LayerParameters> first = model.FirstLinearLayer();
  const bool first_layer = first.has_value();
  const size_t index = first_layer ? first->weight : model.Classifier().weight;
  const at::Tensor weight = target[index].detach().to(torch::kCPU, torch::kDouble).flatten(1);
  const at::Tensor sigma = torch::linalg_svdvals(weight);
  const double* s = sigma.data_ptr<double>();
  // Values below 1e-12 of the largest are exact zeros up to double
  // round-off (e.g. input pixels that are 0 in every image of the batch);
  // float32 noise sits near 1e-8. The classifier's structurally-zero last
  // value lands near 1e-11, so B >= C - 1 shows as a drop at C - 1.
  int64_t count = 0;
  while (count < sigma.size(0) && s[count] > 1e-12 * s[0]) ++count;
  BatchSizeEstimate estimate;
  estimate.layer = model.named_parameters()[index].name;
  estimate.batch_size = std::max<int64_t>(count, 1);
  // The largest drop sigma_k / sigma_{k+1} among those.
  for (int64_t k = 0; k + 1 < count; ++k) {
    const double ratio = s[k] / s[k + 1];
    if (ratio > estimate.gap) {
      estimate.gap = ratio;
      estimate.batch_size = k + 1;
    }
  }
  estimate.lower_bound = !first_layer && estimate.batch_size >= model.spec().num_classes - 1;
  return estimate;
}

}  // namespace biofed
