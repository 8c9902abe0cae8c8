#include "models/conv2d.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

namespace biofed {
namespace {

struct ConvCase {
  const char* name;
  int64_t channels, size, out, kernel, stride, padding;
  bool bias;
};

// Every path of models/conv2d.cc: oneDNN formulations of both gradients
// (stride 1, >= 32 output positions), the weight gradient dilated by the
// stride with the input gradient from LibTorch (stride 2), LibTorch's
// kernels for both (2x2 and 4x4 outputs), and AlexNet's first layer.
const ConvCase kCases[] = {
    {"resnet stage 1", 16, 28, 16, 3, 1, 1, false},
    {"resnet downsampling", 16, 28, 32, 3, 2, 1, false},
    {"resnet stage 3", 64, 7, 64, 3, 1, 1, false},
    {"alexnet conv1", 1, 28, 96, 11, 4, 7, true},
    {"alexnet conv2", 96, 4, 256, 5, 1, 2, true},
    {"alexnet conv5", 64, 2, 48, 3, 1, 1, true},
};

// y, the gradients of a loss of y with respect to x, w and b, and the
// gradients with respect to x and w of a function of those gradients (what
// an Inverting Gradients step differentiates), for the given dtype. Conv2d
// takes its own path for float batches of one and LibTorch's for double,
// which is the reference.
std::vector<torch::Tensor> FirstAndSecondDerivatives(const ConvCase& c, torch::Dtype dtype) {
  torch::manual_seed(7);
  const auto x = torch::randn({1, c.channels, c.size, c.size}).to(dtype).requires_grad_(true);
  const auto w = (torch::randn({c.out, c.channels, c.kernel, c.kernel}) * 0.2).to(dtype).requires_grad_(true);
  const auto b = torch::randn({c.out}).to(dtype).requires_grad_(true);
  const torch::Tensor y = Conv2d(x, w, c.bias ? b : torch::Tensor(), {c.stride, c.stride}, {c.padding, c.padding});
  const torch::Tensor loss = (y.tanh() * y).sum();
  std::vector<torch::Tensor> inputs = {x, w};
  if (c.bias) inputs.push_back(b);
  const auto g = torch::autograd::grad({loss}, inputs, {}, /*retain_graph=*/true, /*create_graph=*/true);
  torch::Tensor objective = (g[0].sin()).sum() + (g[1] * g[1]).sum();
  if (c.bias) objective = objective + g[2].pow(3).sum();
  const auto h = torch::autograd::grad({objective}, {x, w});
  std::vector<torch::Tensor> out = {y.detach(), h[0], h[1]};
  for (const auto& t : g) out.push_back(t.detach());
  return out;
}

// Float32 against float64: each output sums at most C*k*k = 3025 products
// (and second derivatives twice over), so rounding stays near
// sqrt(3025) * 6e-8 = 3e-6 of the largest term; 1e-4 of the largest value
// leaves a wide margin and still catches a wrong term (an O(1) error).
TEST(Conv2dTest, FirstAndSecondDerivativesMatchLibTorchInDoublePrecision) {
  if (!UsesOneDnnConvolutions(torch::zeros({1, 1, 8, 8}))) GTEST_SKIP() << "this LibTorch has no oneDNN";
  for (const ConvCase& c : kCases) {
    const auto got = FirstAndSecondDerivatives(c, torch::kFloat);
    const auto want = FirstAndSecondDerivatives(c, torch::kDouble);
    for (size_t i = 0; i < want.size(); ++i) {
      const double scale = want[i].abs().max().item<double>();
      const double error = (got[i].to(torch::kDouble) - want[i]).abs().max().item<double>();
      EXPECT_LT(error, 1e-4 * scale) << c.name << ", output " << i;
    }
  }
}

TEST(Conv2dTest, BatchesOfMoreThanOneAreLibTorchsOwnBitForBit) {
  torch::manual_seed(8);
  const torch::Tensor x = torch::randn({4, 16, 14, 14}), w = torch::randn({32, 16, 3, 3}), b = torch::randn({32});
  EXPECT_FALSE(UsesOneDnnConvolutions(x));
  EXPECT_TRUE(torch::equal(Conv2d(x, w, b, {2, 2}, {1, 1}), at::conv2d(x, w, b, {2, 2}, {1, 1})));
}

TEST(Conv2dTest, OwnPathOnlyForFloatBatchesOfOneOnTheCpu) {
  if (!UsesOneDnnConvolutions(torch::zeros({1, 1, 8, 8}))) GTEST_SKIP() << "this LibTorch has no oneDNN";
  EXPECT_FALSE(UsesOneDnnConvolutions(torch::zeros({1, 1, 8, 8}, torch::kDouble)));
  EXPECT_FALSE(UsesOneDnnConvolutions(torch::zeros({2, 1, 8, 8})));
}

}  // namespace
}  // namespace biofed
