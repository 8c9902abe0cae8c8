// Copying named state (parameters and buffers) into a Model, checking that
// names, shapes and dtypes match exactly. Not thread-safe for one Model.
#ifndef BIOFED_MODELS_MODEL_STATE_H_
#define BIOFED_MODELS_MODEL_STATE_H_

#include <vector>

#include "absl/status/status.h"
#include "models/model.h"

namespace biofed {

// Copies `state` into `model` (on the model's device). Every parameter and
// buffer of the model must appear exactly once with the same shape; returns
// INVALID_ARGUMENT naming the first mismatch, and leaves the model unchanged
// on error.
absl::Status LoadState(const Model& model, const std::vector<NamedTensor>& state);

// Detached CPU copies of the model's parameters and buffers.
std::vector<NamedTensor> CopyState(const Model& model);

}  // namespace biofed

#endif  // BIOFED_MODELS_MODEL_STATE_H_
