#include "models/parameter_override.h"

#include <torch/torch.h>

namespace biofed {

ParameterOverride::ParameterOverride(const Model& model,
                                     const std::map<std::string, torch::Tensor>& replacements) {
  auto bind = [&](const std::string& prefix, torch::Tensor& member, const char* field) {
    auto it = replacements.find(prefix.empty() ? field : prefix + "." + field);
    if (it == replacements.end() || !member.defined()) return;
    TORCH_CHECK(it->second.sizes() == member.sizes(), "override of ", it->first, " has the wrong shape");
    slots_.push_back({&member, member});
    member = it->second;
  };
  for (const auto& item : model.module().named_modules()) {
    const std::string& name = item.key();
    if (auto* linear = item.value()->as<torch::nn::Linear>()) {
      bind(name, linear->weight, "weight");
      bind(name, linear->bias, "bias");
    } else if (auto* conv = item.value()->as<torch::nn::Conv2d>()) {
      bind(name, conv->weight, "weight");
      bind(name, conv->bias, "bias");
    } else if (auto* bn = item.value()->as<torch::nn::BatchNorm2d>()) {
      bind(name, bn->weight, "weight");
      bind(name, bn->bias, "bias");
    }
  }
}

ParameterOverride::~ParameterOverride() {
  for (auto it = slots_.rbegin(); it != slots_.rend(); ++it) *it->member = it->original;
}

}  // namespace biofed
