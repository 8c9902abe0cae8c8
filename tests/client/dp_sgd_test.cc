// DP-SGD's gradient against per-example gradients computed one by one with
// plain backward passes: each example's contribution clipped to C, the sum
// divided by B; replacing one example moves the gradient by at most 2C/B;
// the noise has standard deviation sigma C / B per coordinate.
#include "client/dp_sgd.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>

#include "client/training_step.h"
#include "models/model.h"
#include "tests/testing/status_matchers.h"

namespace biofed {
namespace {

using ::biofed::testing::IsOk;

constexpr int64_t kBatch = 6;

Model SmallMlp() {
  ModelSpec spec;
  spec.input = {1, 8, 8};
  return BuildModel(spec, 3).value();
}

struct Batch {
  torch::Tensor images, labels;
};

Batch RandomBatch(uint64_t seed) {
  torch::manual_seed(seed);
  return {torch::randn({kBatch, 1, 8, 8}), torch::randint(0, 10, {kBatch}, torch::kLong)};
}

// Example i's gradient by an ordinary backward pass on a batch of one, in
// double, flattened over all parameters.
torch::Tensor OneExampleGradient(const Model& model, const Batch& b, int64_t i) {
  model.module().zero_grad();
  torch::nn::functional::cross_entropy(model.forward(b.images.narrow(0, i, 1)), b.labels.narrow(0, i, 1)).backward();
  std::vector<torch::Tensor> parts;
  for (const auto& p : model.parameters()) parts.push_back(p.grad().flatten().to(torch::kDouble));
  return torch::cat(parts);
}

// What DpSgdGradient::Compute left in the parameters' gradients, flattened.
torch::Tensor DpGradient(const Model& model, const Batch& b, DpSgdOptions options, uint64_t seed = 1) {
  model.module().zero_grad();
  DpSgdGradient(options, seed).Compute(model, b.images, b.labels);
  std::vector<torch::Tensor> parts;
  for (const auto& p : model.parameters()) parts.push_back(p.grad().flatten().to(torch::kDouble));
  return torch::cat(parts);
}

double Norm(const torch::Tensor& t) { return t.norm().item<double>(); }

TEST(DpSgdTest, EachExampleIsClippedToTheBoundAndTheSumAveraged) {
  const Model model = SmallMlp();
  const Batch b = RandomBatch(5);
  std::vector<torch::Tensor> per_example;
  double smallest = INFINITY;
  for (int64_t i = 0; i < kBatch; ++i) {
    per_example.push_back(OneExampleGradient(model, b, i));
    smallest = std::min(smallest, Norm(per_example.back()));
  }
  const double clip = smallest / 2;  // every example is clipped
  torch::Tensor expected = torch::zeros_like(per_example[0]);
  for (const auto& g : per_example) expected += g * (clip / Norm(g));
  expected /= kBatch;
  const torch::Tensor got = DpGradient(model, b, {clip, 0.0});
  // float32 arithmetic over a few thousand terms: 1e-5 of the largest entry.
  const double tolerance = 1e-5 * expected.abs().max().item<double>();
  EXPECT_LE((got - expected).abs().max().item<double>(), tolerance);
}

TEST(DpSgdTest, ABoundAboveEveryExampleLeavesTheMeanGradient) {
  const Model model = SmallMlp();
  const Batch b = RandomBatch(6);
  torch::Tensor mean = torch::zeros_like(OneExampleGradient(model, b, 0));
  double largest = 0;
  for (int64_t i = 0; i < kBatch; ++i) {
    const torch::Tensor g = OneExampleGradient(model, b, i);
    largest = std::max(largest, Norm(g));
    mean += g / kBatch;
  }
  const torch::Tensor got = DpGradient(model, b, {2 * largest, 0.0});
  EXPECT_LE((got - mean).abs().max().item<double>(), 1e-5 * mean.abs().max().item<double>());
}

// The sensitivity DP-SGD's accountant assumes: neighbouring batches (one
// example replaced, here by a wild one) give gradients at most 2C/B apart.
TEST(DpSgdTest, ReplacingOneExampleMovesTheGradientByAtMostTwoClipsOverB) {
  const Model model = SmallMlp();
  const Batch b = RandomBatch(7);
  Batch neighbour{b.images.clone(), b.labels.clone()};
  neighbour.images[2] = 100 * torch::randn({1, 8, 8});
  neighbour.labels[2] = (b.labels[2].item<int64_t>() + 1) % 10;
  const double clip = 0.5;
  const double moved = Norm(DpGradient(model, b, {clip, 0.0}) - DpGradient(model, neighbour, {clip, 0.0}));
  EXPECT_LE(moved, 2 * clip / kBatch * (1 + 1e-5));
  // Unclipped, the wild example moves it much further: the bound is the clip's doing.
  const double unclipped = Norm(OneExampleGradient(model, b, 2) - OneExampleGradient(model, neighbour, 2)) / kBatch;
  EXPECT_GT(unclipped, 4 * clip / kBatch);
}

TEST(DpSgdTest, NoiseHasStandardDeviationSigmaClipOverBPerCoordinate) {
  const Model model = SmallMlp();
  const Batch b = RandomBatch(8);
  const double clip = 0.3, sigma = 1.7;
  const torch::Tensor clean = DpGradient(model, b, {clip, 0.0});
  const torch::Tensor noisy = DpGradient(model, b, {clip, sigma}, 11);
  const torch::Tensor z = (noisy - clean) * (kBatch / (sigma * clip));
  const double n = static_cast<double>(z.numel());
  ASSERT_GT(n, 1e4);
  // Standard normal: the sample mean has standard error 1/sqrt(n), the sample
  // standard deviation ~1/sqrt(2n); 5 standard errors.
  EXPECT_NEAR(z.mean().item<double>(), 0.0, 5 / std::sqrt(n));
  EXPECT_NEAR(z.std().item<double>(), 1.0, 5 / std::sqrt(2 * n));
  // The noise is the client's own: the same seed draws it again.
  EXPECT_TRUE(torch::equal(noisy, DpGradient(model, b, {clip, sigma}, 11)));
  EXPECT_FALSE(torch::equal(noisy, DpGradient(model, b, {clip, sigma}, 12)));
}

TEST(DpSgdTest, TrainingStepAppliesTheDpGradient) {
  const Model model = SmallMlp();
  const Batch b = RandomBatch(9);
  const DpSgdOptions dp{0.2, 0.0};
  const torch::Tensor gradient = DpGradient(model, b, dp);
  std::vector<torch::Tensor> before;
  for (const auto& p : model.parameters()) before.push_back(p.detach().to(torch::kDouble).flatten());
  OptimizerOptions sgd;
  sgd.lr = 0.1;
  TrainingStep step(model.Clone(), BiomodOptions(), sgd, 1, dp);
  step.Step(b.images, b.labels);
  std::vector<torch::Tensor> after;
  for (const auto& p : step.model().parameters()) after.push_back(p.detach().to(torch::kDouble).flatten());
  const torch::Tensor applied = (torch::cat(before) - torch::cat(after)) / sgd.lr;
  EXPECT_LE((applied - gradient).abs().max().item<double>(), 1e-5 * gradient.abs().max().item<double>() + 1e-6);
}

TEST(DpSgdTest, RefusesBadSettingsAndModelsWithBatchNorm) {
  EXPECT_FALSE(ValidateDpSgd({-1.0, 1.0}).ok());
  EXPECT_FALSE(ValidateDpSgd({1.0, -0.5}).ok());
  EXPECT_FALSE(ValidateDpSgd({NAN, 1.0}).ok());
  EXPECT_THAT(ValidateDpSgd({1.0, 1.1}), IsOk());
  EXPECT_THAT(CheckDpSgdApplies(SmallMlp()), IsOk());
  ModelSpec resnet;
  resnet.architecture = Architecture::kResNet20;
  resnet.input = {1, 28, 28};
  EXPECT_EQ(CheckDpSgdApplies(BuildModel(resnet, 1).value()).code(), absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace biofed
