// The test accuracy of a federation's model, as the round logic asks for it:
// a callback from a host-tensor model to its accuracy and loss
// (MakeModelEvaluator in server/model_evaluator.h builds one). Torch-free.
#ifndef BIOFED_SERVER_EVALUATION_H_
#define BIOFED_SERVER_EVALUATION_H_

#include <functional>

#include "absl/status/statusor.h"
#include "wire/host_tensor.h"

namespace biofed {

struct EvaluationResult {
  double accuracy = 0.0;
  double loss = 0.0;
};

using ModelEvaluator = std::function<absl::StatusOr<EvaluationResult>(const TensorTable&)>;

}  // namespace biofed

#endif  // BIOFED_SERVER_EVALUATION_H_
