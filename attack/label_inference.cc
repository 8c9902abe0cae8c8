#include "attack/label_inference.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include <torch/torch.h>

namespace biofed {

std::vector<int64_t> InferLabels(const torch::Tensor& classifier_weight_grad,
                                 const torch::Tensor& classifier_bias_grad,
                                 const torch::Tensor& mean_prediction, int64_t batch_size) {
  torch::NoGradGuard no_grad;
  if (batch_size == 1) {
    return {classifier_weight_grad.detach().sum(1).argmin().item<int64_t>()};
  }
  const torch::Tensor estimate =
      (static_cast<double>(batch_size) *
       (mean_prediction.detach().to(torch::kCPU, torch::kDouble) -
        classifier_bias_grad.detach().to(torch::kCPU, torch::kDouble)))
          .clamp_min(0);
  const int64_t classes = estimate.size(0);
  std::vector<double> raw(estimate.data_ptr<double>(), estimate.data_ptr<double>() + classes);
  const double total = std::accumulate(raw.begin(), raw.end(), 0.0);
  if (total > 0) {
    for (double& r : raw) r *= static_cast<double>(batch_size) / total;
  }
  std::vector<int64_t> counts(classes);
  int64_t assigned = 0;
  for (int64_t c = 0; c < classes; ++c) assigned += counts[c] = static_cast<int64_t>(std::floor(raw[c]));
  std::vector<int64_t> order(classes);
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
    return raw[a] - std::floor(raw[a]) > raw[b] - std::floor(raw[b]);
  });
  for (int64_t i = 0; assigned < batch_size; i = (i + 1) % classes, ++assigned) ++counts[order[i]];
  std::vector<int64_t> labels;
  for (int64_t c = 0; c < classes; ++c) labels.insert(labels.end(), counts[c], c);
  return labels;
}

}  // namespace biofed
