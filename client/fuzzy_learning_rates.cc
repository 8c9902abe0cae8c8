#include "client/fuzzy_learning_rates.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include "client/seeds.h"

namespace biofed {

torch::Tensor DrawFuzzyFactors(at::IntArrayRef shape, double tau, uint64_t seed, size_t index) {
  at::Generator generator =
      at::make_generator<at::CPUGeneratorImpl>(MixSeed(seed, kFuzzyStream, index));
  return torch::empty(shape, torch::kFloat).uniform_(1.0 - tau / 2, 1.0 + tau / 2, generator);
}

FuzzyLearningRates::FuzzyLearningRates(const std::vector<NamedTensor>& targets, double tau,
                                       uint64_t seed) {
  for (size_t i = 0; i < targets.size(); ++i) {
    weights_.push_back(targets[i].tensor);
    factors_.push_back(DrawFuzzyFactors(targets[i].tensor.sizes(), tau, seed, i)
                           .to(targets[i].tensor.device(), targets[i].tensor.scalar_type()));
  }
}

void FuzzyLearningRates::Apply() const {
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> grads, factors;
  for (size_t i = 0; i < weights_.size(); ++i) {
    const torch::Tensor& grad = weights_[i].grad();
    if (!grad.defined()) continue;
    grads.push_back(grad);
    factors.push_back(factors_[i]);
  }
  // One multi-tensor kernel on CUDA rather than a launch per layer.
  if (!grads.empty()) torch::_foreach_mul_(grads, factors);
}

}  // namespace biofed
