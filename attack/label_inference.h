// Label inference from a shared gradient. Batch 1: iDLG (Zhao et al. 2020):
// the true class is the row of the classifier's weight gradient with the
// most negative sum (features after ReLU are non-negative). Batch > 1: the
// classifier's bias gradient g_c = mean_i(p_ic - y_ic) gives counts
// n_c ~ B (pbar_c - g_c), with pbar the model's mean prediction on random
// inputs; counts are rounded by largest remainder to sum to B.
// Stateless; thread-safe.
#ifndef BIOFED_ATTACK_LABEL_INFERENCE_H_
#define BIOFED_ATTACK_LABEL_INFERENCE_H_

#include <vector>

#include "absl/status/statusor.h"
#include "models/model.h"

namespace biofed {

// `classifier_weight_grad` [C, F], `classifier_bias_grad` [C];
// `mean_prediction` [C] (used for batch > 1).
std::vector<int64_t> InferLabels(const at::Tensor& classifier_weight_grad,
                                 const at::Tensor& classifier_bias_grad,
                                 const at::Tensor& mean_prediction, int64_t batch_size);

}  // namespace biofed

#endif  // BIOFED_ATTACK_LABEL_INFERENCE_H_
