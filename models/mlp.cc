#include "models/mlp.h"

#include <torch/torch.h>

#include "models/weight_split.h"

namespace biofed {

MlpImpl::MlpImpl(const ModelSpec& spec) : spec_(spec) { reset(); }

void MlpImpl::reset() {
  const InputShape& in = spec_.input;
  const int64_t inputs = in.channels * in.height * in.width;
  // One hidden layer of 1000 for single-channel inputs, two of 3000 for colour.
  const std::vector<int64_t> hidden =
      in.channels == 1 ? std::vector<int64_t>{1000} : std::vector<int64_t>{3000, 3000};
  layers_.clear();
  int64_t fan_in = inputs;
  for (size_t i = 0; i <= hidden.size(); ++i) {
    const bool is_classifier = i == hidden.size();
    const int64_t out = is_classifier ? spec_.num_classes : hidden[i];
    const std::string name = "fc" + std::to_string(i + 1);
    if (!is_classifier) CheckSplittable(name, out, spec_.split_gamma);
    auto layer = register_module(name, torch::nn::Linear(fan_in, out));
    torch::NoGradGuard no_grad;
    layer->bias.zero_();
    layers_.push_back(layer);
    fan_in = out;
  }
}

torch::Tensor MlpImpl::forward(const torch::Tensor& x) {
  torch::Tensor h = x.flatten(1);
  for (size_t i = 0; i + 1 < layers_.size(); ++i) {
    h = torch::relu(SplitLinearForward(layers_[i], h, spec_.split_gamma));
  }
  return layers_.back()->forward(h);
}

}  // namespace biofed
