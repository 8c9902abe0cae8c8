#include "attack/gradient_matching.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

namespace biofed {
namespace {

// The cosine distance as autograd's composite of tensor operations (what
// CosineDistance computed before it became one autograd node), written out
// here independently of the code under test.
torch::Tensor CompositeCosineDistance(const std::vector<torch::Tensor>& a, const std::vector<torch::Tensor>& b) {
  torch::Tensor dot = torch::zeros({});
  for (size_t i = 0; i < a.size(); ++i) dot = dot + torch::dot(a[i].reshape(-1), b[i].reshape(-1));
  auto norm = [](const std::vector<torch::Tensor>& t) {
    torch::Tensor squared = torch::zeros({});
    for (const auto& x : t) squared = squared + torch::dot(x.reshape(-1), x.reshape(-1));
    return squared.sqrt();
  };
  return 1 - dot / (norm(a) * norm(b) + 1e-20);
}

Model Mlp() {
  ModelSpec spec;
  spec.architecture = Architecture::kMlp;
  return BuildModel(spec, 3).value();
}

// The Inverting Gradients objective's value and its gradient with respect
// to the images, with `distance` as the gradient-matching term.
template <typename Distance>
std::pair<torch::Tensor, torch::Tensor> ObjectiveAndImageGradient(const Distance& distance, const Model& model,
                                                                  const torch::Tensor& x0, const torch::Tensor& labels,
                                                                  const std::vector<torch::Tensor>& target) {
  const torch::Tensor x = x0.clone().requires_grad_(true);
  const torch::Tensor value =
      distance(CandidateGradients(model, x, labels, /*create_graph=*/true), target) + 1e-6 * TotalVariation(x);
  return {value.detach(), torch::autograd::grad({value}, {x})[0]};
}

// The gradient is used through its sign by the attack, so "within a
// tolerance" would let it flip signs of small entries: the fused node must
// reproduce the composite's floats exactly, on the MLP at batch 1 and 4.
TEST(CosineDistanceTest, ValueAndImageGradientAreBitForBitTheComposites) {
  const Model model = Mlp();
  for (int64_t batch : {1, 4}) {
    torch::manual_seed(batch);
    const torch::Tensor labels = torch::randint(0, 10, {batch}, torch::kLong);
    std::vector<torch::Tensor> target;
    for (const auto& g : CandidateGradients(model, torch::randn({batch, 1, 28, 28}), labels, false)) {
      target.push_back(g.detach());
    }
    const torch::Tensor x0 = torch::randn({batch, 1, 28, 28});
    const auto [value, grad] = ObjectiveAndImageGradient(
        [](const auto& a, const auto& b) { return CosineDistance(a, b); }, model, x0, labels, target);
    const auto [expected_value, expected_grad] =
        ObjectiveAndImageGradient(CompositeCosineDistance, model, x0, labels, target);
    EXPECT_TRUE(torch::equal(value, expected_value)) << "batch " << batch;
    EXPECT_TRUE(torch::equal(grad, expected_grad)) << "batch " << batch << ", largest difference "
                                                   << (grad - expected_grad).abs().max().item<float>();
  }
}

}  // namespace
}  // namespace biofed
