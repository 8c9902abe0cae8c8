// The batch size from the update alone, for an attacker not told it. A
// Linear layer's weight gradient is sum_i delta_i h_i^T: its rank is the
// number of examples behind it. The first Linear layer of the MLP sees the
// raw inputs, so its rank counts the distinct examples whatever the number
// of local steps; a convolutional model's classifier has rank
// min(B, C - 1) for one step (the rows of p - y sum to zero), so there it
// tells B only up to C - 1 and is a lower bound beyond. The estimate is the
// position of the largest gap in the singular values (the numerical rank
// when the rest is floating-point noise; it also survives FL's factors on
// the MLP, which lift the noise floor to ~1e-2). Stateless; thread-safe.
#ifndef BIOFED_ATTACK_BATCH_SIZE_ESTIMATE_H_
#define BIOFED_ATTACK_BATCH_SIZE_ESTIMATE_H_

#include <cstdint>
#include <string>
#include <vector>

#include <ATen/ATen.h>

#include "models/model.h"

namespace biofed {

struct BatchSizeEstimate {
  int64_t batch_size = 1;
  bool lower_bound = false;  // the classifier's rank cap was reached: B may be larger
  double gap = 0;            // sigma_B / sigma_{B+1}: how clear the estimate is
  std::string layer;         // which gradient it was read from
};

// `target` holds the attacker's gradients aligned with `model`'s parameters
// (TargetGradients). Reads the first Linear layer when the model has one on
// its input, else the classifier.
BatchSizeEstimate EstimateBatchSize(const Model& model, const std::vector<at::Tensor>& target);

}  // namespace biofed

#endif  // BIOFED_ATTACK_BATCH_SIZE_ESTIMATE_H_
