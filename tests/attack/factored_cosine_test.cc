#include "attack/factored_cosine.h"

#include <algorithm>
#include <optional>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "attack/gradient_matching.h"
#include "models/layer_tape.h"

namespace biofed {
namespace {

Model Build(Architecture architecture, int64_t split_gamma) {
  ModelSpec spec;
  spec.architecture = architecture;
  spec.split_gamma = split_gamma;
  return BuildModel(spec, 7).value();
}

struct Evaluation {
  torch::Tensor value, image_gradient;
};

// The objective and its gradient w.r.t. the images, from the factored path
// or from the formed gradients (autograd's parameter gradients and the
// cosine over them: the reference, independent of the factoring).
Evaluation Evaluate(std::optional<Factoring> factoring, const Model& model, const torch::Tensor& x0,
                    const torch::Tensor& labels, const std::vector<torch::Tensor>& target,
                    const torch::Tensor& target_norm) {
  const torch::Tensor x = x0.clone().requires_grad_(true);
  const torch::Tensor value =
      factoring ? CandidateCosineDistance(model, x, labels, target, target_norm, *factoring)
                : CosineDistance(CandidateGradients(model, x, labels, /*create_graph=*/true), target, target_norm);
  return {value.detach(), torch::autograd::grad({value}, {x})[0]};
}

struct Case {
  Architecture architecture;
  int64_t split_gamma, batch;
  Factoring factoring = Factoring::kWhereCheaper;
};

std::string Name(const Case& c) {
  return ArchitectureName(c.architecture) + " gamma " + std::to_string(c.split_gamma) + " batch " +
         std::to_string(c.batch) + (c.factoring == Factoring::kEveryTapedLayer ? ", every layer factored" : "");
}

// The target: the gradients of another batch, so the cosine is far from 0
// and 1 and both of its sums matter.
std::vector<torch::Tensor> TargetGradients(const Model& model, const Case& c, const torch::Tensor& labels) {
  std::vector<torch::Tensor> target;
  for (const auto& g : CandidateGradients(model, torch::randn({c.batch, 1, 28, 28}), labels, false)) {
    target.push_back(g.detach());
  }
  return target;
}

// The factored sums add the same products in another order, over up to 3.7M
// float32 terms (AlexNet): a relative rounding error of about
// sqrt(3.7e6) x 6e-8 ~ 1e-4 in the worst accumulations, far less in
// LibTorch's blocked sums. Bounds: 1e-4 on the cosine distance (a value in
// [0, 2]), 1e-3 relative on the image gradient's norm; and since the attack
// steps on the gradient's sign, every entry above 1% of the largest one has
// the reference's sign. The cases: what the attacks factor (the MLP's
// hidden layer, AlexNet's conv2-fc2), and every taped layer, for the shapes
// the cost model leaves out (AlexNet's conv1 of stride 4; ResNet20's
// convolutions of stride 2 and those feeding BatchNorm), with and without WS.
TEST(CandidateCosineDistanceTest, EqualsTheCosineOfTheFormedGradientsWithinFloatRounding) {
  const Factoring every = Factoring::kEveryTapedLayer;
  const std::vector<Case> cases = {
      {Architecture::kMlp, 0, 1},           {Architecture::kMlp, 2, 3},          {Architecture::kAlexNet, 0, 1},
      {Architecture::kAlexNet, 2, 2},       {Architecture::kMlp, 2, 3, every},   {Architecture::kAlexNet, 0, 1, every},
      {Architecture::kAlexNet, 2, 2, every}, {Architecture::kResNet20, 0, 1, every},
      {Architecture::kResNet20, 2, 2, every}};
  for (const Case& c : cases) {
    torch::manual_seed(c.batch + 10 * c.split_gamma);
    const Model model = Build(c.architecture, c.split_gamma);
    const torch::Tensor labels = torch::randint(0, 10, {c.batch}, torch::kLong);
    const std::vector<torch::Tensor> target = TargetGradients(model, c, labels);
    const torch::Tensor target_norm = ConcatenatedNorm(target);
    const torch::Tensor x0 = torch::randn({c.batch, 1, 28, 28});
    const Evaluation got = Evaluate(c.factoring, model, x0, labels, target, target_norm);
    const Evaluation want = Evaluate(std::nullopt, model, x0, labels, target, target_norm);
    EXPECT_NEAR(got.value.item<double>(), want.value.item<double>(), 1e-4) << Name(c);
    const torch::Tensor error = (got.image_gradient - want.image_gradient).norm() / want.image_gradient.norm();
    EXPECT_LT(error.item<double>(), 1e-3) << Name(c);
    const torch::Tensor large = want.image_gradient.abs() > 0.01 * want.image_gradient.abs().max();
    EXPECT_TRUE(torch::equal(got.image_gradient.sign().masked_select(large),
                             want.image_gradient.sign().masked_select(large)))
        << Name(c);
  }
}

// ResNet20 at batch 4 (as at batches 1 and 2): its layers see 196 or more
// rows, or 49 per image at 64 channels, none is worth factoring, and the
// path is the formed gradients' bit for bit.
TEST(CandidateCosineDistanceTest, WithNothingToFactorIsTheFormedGradientsPathExactly) {
  torch::manual_seed(4);
  const Case c{Architecture::kResNet20, 0, 4};
  const Model model = Build(c.architecture, c.split_gamma);
  const torch::Tensor labels = torch::randint(0, 10, {c.batch}, torch::kLong);
  const std::vector<torch::Tensor> target = TargetGradients(model, c, labels);
  const torch::Tensor target_norm = ConcatenatedNorm(target);
  const torch::Tensor x0 = torch::randn({c.batch, 1, 28, 28});
  const Evaluation got = Evaluate(Factoring::kWhereCheaper, model, x0, labels, target, target_norm);
  const Evaluation want = Evaluate(std::nullopt, model, x0, labels, target, target_norm);
  EXPECT_TRUE(torch::equal(got.value, want.value));
  EXPECT_TRUE(torch::equal(got.image_gradient, want.image_gradient));
}

// The tape holds AlexNet's weight layers in order (the classifier runs as a
// plain Linear, untaped), each with the output it computed: under WS the
// block-summed output, before the repeat.
TEST(LayerTapeTest, RecordsAlexNetsWeightLayersWithTheirInputsAndOutputs) {
  const Model model = Build(Architecture::kAlexNet, 2);
  const auto named = model.named_parameters();
  std::vector<TapedLayer> layers;
  {
    LayerTape tape;
    model.forward(torch::randn({2, 1, 28, 28}));
    layers = tape.layers();
    EXPECT_THROW(LayerTape second, c10::Error);
  }
  EXPECT_FALSE(LayerTape::Recording());
  const std::vector<std::string> names = {"conv1", "conv2", "conv3", "conv4", "conv5", "fc1", "fc2"};
  ASSERT_EQ(layers.size(), names.size());
  for (size_t i = 0; i < names.size(); ++i) {
    const torch::Tensor& weight = std::find_if(named.begin(), named.end(), [&](const NamedTensor& t) {
                                    return t.name == names[i] + ".weight";
                                  })->tensor;
    EXPECT_TRUE(layers[i].weight.is_same(weight)) << names[i];
    EXPECT_EQ(layers[i].split_gamma, 2) << names[i];
    EXPECT_EQ(layers[i].convolution, i < 5) << names[i];
    EXPECT_EQ(layers[i].output.size(0), 2) << names[i];
    EXPECT_EQ(layers[i].output.size(1), weight.size(0) / 2) << names[i];
    EXPECT_EQ(layers[i].input.size(1), weight.size(1)) << names[i];
  }
  EXPECT_EQ(layers[0].kernel, (std::vector<int64_t>{11, 11}));
  EXPECT_EQ(layers[0].stride, (std::vector<int64_t>{4, 4}));
  EXPECT_EQ(layers[0].output.size(2), 8);
}

}  // namespace
}  // namespace biofed
