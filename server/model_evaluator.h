// The server's per-round test accuracy: builds the model of a spec once and
// evaluates any host-tensor state of it on the test split. Serialised
// internally; thread-safe.
#ifndef BIOFED_SERVER_MODEL_EVALUATOR_H_
#define BIOFED_SERVER_MODEL_EVALUATOR_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "data/dataset.h"
#include "models/model_spec.h"
#include "server/evaluation.h"

namespace biofed {

// `test` is shared and read-only; `device` as ResolveDevice understands it.
absl::StatusOr<ModelEvaluator> MakeModelEvaluator(const ModelSpec& spec, std::shared_ptr<const Dataset> test,
                                                  const Normalization& norm, const std::string& device);

}  // namespace biofed

#endif  // BIOFED_SERVER_MODEL_EVALUATOR_H_
