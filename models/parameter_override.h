// Temporarily replaces the tensors a model's layers compute with (Linear,
// Conv2d and BatchNorm2d weights and biases) by arbitrary tensors, which may
// carry an autograd graph. This makes a forward pass a function of those
// tensors: what the FedAvg-aware attack needs to differentiate through a
// client's simulated local steps. Restores the originals on destruction.
// Not thread-safe; the model must not be used elsewhere meanwhile.
#ifndef BIOFED_MODELS_PARAMETER_OVERRIDE_H_
#define BIOFED_MODELS_PARAMETER_OVERRIDE_H_

#include <map>
#include <string>
#include <vector>

#include "models/model.h"

namespace biofed {

class ParameterOverride {
 public:
  // `replacements` maps parameter names ("fc1.weight") to tensors of the
  // same shapes; names not given keep their tensors.
  ParameterOverride(const Model& model, const std::map<std::string, torch::Tensor>& replacements);
  ~ParameterOverride();
  ParameterOverride(const ParameterOverride&) = delete;
  ParameterOverride& operator=(const ParameterOverride&) = delete;

 private:
  struct Slot {
    torch::Tensor* member;
    torch::Tensor original;
  };
  std::vector<Slot> slots_;
};

}  // namespace biofed

#endif  // BIOFED_MODELS_PARAMETER_OVERRIDE_H_
