#include "models/batch_norm.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

namespace biofed {
namespace {

struct Derivatives {
  std::vector<torch::Tensor> outputs;  // y, first derivatives, second derivatives
  std::vector<torch::Tensor> buffers;  // running mean and variance, batches tracked
};

// A training-mode BatchNorm2d with non-trivial affine parameters, its
// output, the gradients of a loss of it with respect to x, weight and bias
// (kept for a second differentiation), and the gradients of a function of
// those with respect to x, weight and bias; `own` chooses BatchNorm2dForward
// or the module's own forward (autograd's double backward).
Derivatives Differentiate(const std::vector<int64_t>& shape, torch::Dtype dtype, bool own, bool use_input_gradient = true) {
  torch::manual_seed(11);
  torch::nn::BatchNorm2d bn(shape[1]);
  {
    torch::NoGradGuard no_grad;
    bn->weight.uniform_(0.5, 1.5);
    bn->bias.uniform_(-1, 1);
  }
  bn->to(dtype);
  bn->train();
  const torch::Tensor x = (torch::randn(shape) * 2 + 0.5).to(dtype).requires_grad_(true);
  const torch::Tensor y = own ? BatchNorm2dForward(bn, x) : bn->forward(x);
  const torch::Tensor loss = (y.sin() * y).sum();
  const auto g = torch::autograd::grad({loss}, {x, bn->weight, bn->bias}, {}, true, true);
  torch::Tensor objective = (g[1] * g[1] * 3).sum() + g[2].pow(3).sum();
  if (use_input_gradient) objective = objective + g[0].cos().sum();
  const auto h = torch::autograd::grad({objective}, {x, bn->weight, bn->bias});
  return {{y.detach(), g[0].detach(), g[1].detach(), g[2].detach(), h[0], h[1], h[2]},
          {bn->running_mean.clone(), bn->running_var.clone(), bn->num_batches_tracked.clone()}};
}

// The forward, the first derivatives and the running statistics are
// LibTorch's own kernels: identical bits.
TEST(BatchNormTest, ForwardFirstDerivativesAndRunningStatisticsAreTheModules) {
  for (const auto& shape : std::vector<std::vector<int64_t>>{{1, 16, 28, 28}, {8, 32, 7, 7}}) {
    const Derivatives own = Differentiate(shape, torch::kFloat, true), module = Differentiate(shape, torch::kFloat, false);
    for (size_t i = 0; i < 4; ++i) EXPECT_TRUE(torch::equal(own.outputs[i], module.outputs[i])) << "output " << i;
    for (size_t i = 0; i < own.buffers.size(); ++i) EXPECT_TRUE(torch::equal(own.buffers[i], module.buffers[i]));
  }
}

// The closed-form second derivatives in float32 (sums in double) against
// autograd's double backward of the module in float64: only float32
// rounding of inputs and outputs separates them (~1e-7 relative); 1e-5 of
// the largest value still catches any wrong term. With and without the
// input gradient in the objective (an absent incoming gradient).
TEST(BatchNormTest, SecondDerivativesMatchAutogradInDoublePrecision) {
  for (bool use_input_gradient : {true, false}) {
    for (const auto& shape : std::vector<std::vector<int64_t>>{{1, 16, 28, 28}, {8, 32, 7, 7}, {2, 4, 3, 5}}) {
      const Derivatives own = Differentiate(shape, torch::kFloat, true, use_input_gradient);
      const Derivatives reference = Differentiate(shape, torch::kDouble, false, use_input_gradient);
      for (size_t i = 4; i < 7; ++i) {
        const double scale = reference.outputs[i].abs().max().item<double>();
        const double error = (own.outputs[i].to(torch::kDouble) - reference.outputs[i]).abs().max().item<double>();
        EXPECT_LT(error, 1e-5 * scale) << "output " << i << ", input gradient used: " << use_input_gradient;
      }
    }
  }
}

// A graph of the second derivative would lack the terms through the batch
// statistics, so it is refused rather than built.
TEST(BatchNormTest, RefusesAGraphOfTheSecondDerivative) {
  torch::nn::BatchNorm2d bn(2);
  const torch::Tensor x = torch::randn({2, 2, 3, 3}).requires_grad_(true);
  const auto g = torch::autograd::grad({BatchNorm2dForward(bn, x).pow(2).sum()}, {x}, {}, true, true)[0];
  EXPECT_NO_THROW(torch::autograd::grad({g.pow(2).sum()}, {x}, {}, /*retain_graph=*/true, /*create_graph=*/false));
  EXPECT_THROW(torch::autograd::grad({g.pow(2).sum()}, {x}, {}, true, /*create_graph=*/true), c10::Error);
}

TEST(BatchNormTest, EvalModeAndOtherTypesAreTheModulesForward) {
  torch::nn::BatchNorm2d bn(3);
  bn->eval();
  const torch::Tensor x = torch::randn({2, 3, 4, 4});
  EXPECT_TRUE(torch::equal(BatchNorm2dForward(bn, x), bn->forward(x)));
}

}  // namespace
}  // namespace biofed
