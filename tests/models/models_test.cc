#include <map>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "models/model.h"
#include "models/model_state.h"
#include "models/weight_split.h"
#include "tests/testing/status_matchers.h"

namespace biofed {
namespace {

using ::biofed::testing::IsOk;
using ::biofed::testing::StatusIs;

ModelSpec Spec(Architecture a, InputShape in, int64_t classes = 10, int64_t gamma = 0) {
  ModelSpec spec;
  spec.architecture = a;
  spec.input = in;
  spec.num_classes = classes;
  spec.split_gamma = gamma;
  return spec;
}

const InputShape kGray{1, 28, 28};
const InputShape kColor{3, 32, 32};

struct ShapeCase {
  Architecture architecture;
  InputShape input;
};

class ModelShapeTest : public ::testing::TestWithParam<ShapeCase> {};

TEST_P(ModelShapeTest, OutputsOneLogitPerClass) {
  for (int64_t gamma : {0, 2}) {
    auto model = BuildModel(Spec(GetParam().architecture, GetParam().input, 7, gamma), 1);
    ASSERT_THAT(model, IsOk());
    const InputShape& in = GetParam().input;
    const torch::Tensor y = model->forward(torch::randn({3, in.channels, in.height, in.width}));
    EXPECT_EQ(y.sizes(), (std::vector<int64_t>{3, 7}));
  }
}

INSTANTIATE_TEST_SUITE_P(
    AllModels, ModelShapeTest,
    ::testing::Values(ShapeCase{Architecture::kMlp, kGray}, ShapeCase{Architecture::kMlp, kColor},
                      ShapeCase{Architecture::kAlexNet, kGray}, ShapeCase{Architecture::kAlexNet, kColor},
                      ShapeCase{Architecture::kResNet20, kGray}, ShapeCase{Architecture::kResNet20, kColor},
                      ShapeCase{Architecture::kResNet32, kGray}, ShapeCase{Architecture::kResNet32, kColor},
                      ShapeCase{Architecture::kResNet56, kGray}, ShapeCase{Architecture::kResNet56, kColor}));

TEST(ModelTest, ParameterCountsMatchTheStandardModels) {
  // Standard option-A CIFAR ResNet counts (He et al. 2016; 0.27M, 0.46M,
  // 0.85M) and the paper's MLP/AlexNet counted by hand:
  // MLP 784*1000 + 1000 + 1000*10 + 10 = 795,010.
  EXPECT_EQ(BuildModel(Spec(Architecture::kResNet20, kColor), 0)->ParameterCount(), 269722);
  EXPECT_EQ(BuildModel(Spec(Architecture::kResNet32, kColor), 0)->ParameterCount(), 464154);
  EXPECT_EQ(BuildModel(Spec(Architecture::kResNet56, kColor), 0)->ParameterCount(), 853018);
  EXPECT_EQ(BuildModel(Spec(Architecture::kMlp, kGray), 0)->ParameterCount(), 795010);
  EXPECT_EQ(BuildModel(Spec(Architecture::kAlexNet, kGray), 0)->ParameterCount(), 3728586);
  EXPECT_EQ(BuildModel(Spec(Architecture::kAlexNet, kColor), 0)->ParameterCount(), 3751818);
}

TEST(ModelTest, WeightSplittingKeepsTheParameterCount) {
  for (Architecture a : {Architecture::kMlp, Architecture::kAlexNet, Architecture::kResNet20}) {
    for (const InputShape& in : {kGray, kColor}) {
      EXPECT_EQ(BuildModel(Spec(a, in, 10, 2), 0)->ParameterCount(),
                BuildModel(Spec(a, in, 10, 0), 0)->ParameterCount());
    }
  }
}

TEST(ModelTest, RejectsALayerWeightSplittingCannotDivide) {
  // The MLP's hidden layer has 1000 outputs: not divisible by 3.
  EXPECT_THAT(BuildModel(Spec(Architecture::kMlp, kGray, 10, 3), 0),
              StatusIs(absl::StatusCode::kInvalidArgument, "fc1 has 1000 outputs, not divisible by Gamma = 3"));
}

TEST(ModelTest, BiasesStartAtZero) {
  auto model = BuildModel(Spec(Architecture::kAlexNet, kGray), 3);
  for (const auto& p : model->named_parameters()) {
    if (p.name.find("conv") != std::string::npos || p.name.find("fc") != std::string::npos) {
      if (p.name.size() > 5 && p.name.substr(p.name.size() - 5) == ".bias") {
        EXPECT_EQ(p.tensor.abs().max().item<float>(), 0.0f) << p.name;
      }
    }
  }
}

TEST(ModelTest, CloneIsADeepIndependentCopy) {
  for (Architecture a : {Architecture::kMlp, Architecture::kResNet20}) {
    auto model = BuildModel(Spec(a, kColor, 10, 2), 5);
    ASSERT_THAT(model, IsOk());
    model->train(false);
    Model copy = model->Clone();
    copy.train(false);
    const torch::Tensor x = torch::randn({2, 3, 32, 32});
    EXPECT_TRUE(torch::equal(model->forward(x), copy.forward(x)));
    {
      torch::NoGradGuard no_grad;
      for (auto& p : copy.parameters()) p.add_(1.0);
    }
    EXPECT_FALSE(torch::equal(model->forward(x), copy.forward(x)));
    // The original's parameters are untouched by changes to the copy.
    auto fresh = BuildModel(Spec(a, kColor, 10, 2), 5);
    fresh->train(false);
    EXPECT_TRUE(torch::equal(model->forward(x), fresh->forward(x)));
  }
}

TEST(ModelTest, SameSeedSameWeights) {
  auto a = BuildModel(Spec(Architecture::kResNet20, kColor), 9);
  auto b = BuildModel(Spec(Architecture::kResNet20, kColor), 9);
  auto pa = a->parameters(), pb = b->parameters();
  for (size_t i = 0; i < pa.size(); ++i) EXPECT_TRUE(torch::equal(pa[i], pb[i]));
}

TEST(ModelTest, MechanismTargetsAreLinearAndConvWeightsOnly) {
  auto model = BuildModel(Spec(Architecture::kResNet20, kColor), 0);
  const auto targets = model->MechanismTargets();
  // 19 convolutions and 1 classifier.
  ASSERT_EQ(targets.size(), 20u);
  for (const auto& t : targets) {
    EXPECT_EQ(t.name.substr(t.name.size() - 7), ".weight");
    EXPECT_EQ(t.name.find("bn"), std::string::npos) << t.name;
  }
  EXPECT_EQ(targets.back().name, "fc.weight");
}

// Sums contiguous output blocks of `gamma` and repeats each sum, written out
// with explicit loops, independently of the implementation under test.
torch::Tensor BlockSumByLoops(const torch::Tensor& y, int64_t gamma) {
  torch::Tensor out = torch::empty_like(y);
  for (int64_t j = 0; j < y.size(1); ++j) {
    const int64_t first = (j / gamma) * gamma;
    torch::Tensor sum = torch::zeros_like(y.select(1, j));
    for (int64_t k = first; k < first + gamma; ++k) sum += y.select(1, k);
    out.select(1, j).copy_(sum);
  }
  return out;
}

// The attacks read gradients by layer: the classifier gives C logits from its
// input features, and only the MLP takes its input with a Linear layer.
TEST(ModelTest, ClassifierAndFirstLinearLayerAreFoundByStructure) {
  for (Architecture a : {Architecture::kMlp, Architecture::kAlexNet, Architecture::kResNet20, Architecture::kResNet56}) {
    ModelSpec spec;
    spec.architecture = a;
    spec.num_classes = 7;
    const Model model = BuildModel(spec, 0).value();
    const auto named = model.named_parameters();
    const LayerParameters classifier = model.Classifier();
    ASSERT_TRUE(classifier.has_bias) << ArchitectureName(a);
    EXPECT_EQ(named[classifier.weight].name, classifier.name + ".weight");
    EXPECT_EQ(named[classifier.weight].tensor.size(0), 7) << ArchitectureName(a);
    EXPECT_EQ(named[classifier.bias].tensor.sizes(), torch::IntArrayRef({7}));
    const std::optional<LayerParameters> first = model.FirstLinearLayer();
    EXPECT_EQ(first.has_value(), a == Architecture::kMlp) << ArchitectureName(a);
    if (first) {
      EXPECT_EQ(named[first->weight].tensor.size(1), 28 * 28);
    }
  }
}

// A malicious server's imprint block (models/imprint_block.h) in front of a
// classifier: y = classifier(x + out(relu(bins(flatten x)))), checked
// against that formula written out on the model's own parameters; the block
// is the first layer and the classifier keeps its WS; clones keep it all.
TEST(ImprintBlockTest, IsTheFirstLayerAndAddsItsOutputToTheInput) {
  for (Architecture a : {Architecture::kMlp, Architecture::kResNet20}) {
    ModelSpec spec = Spec(a, kColor, 10, 2);
    spec.imprint_bins = 5;
    const Model model = BuildModel(spec, 3).value();
    model.train(false);
    std::map<std::string, torch::Tensor> p;
    for (const NamedTensor& t : model.named_state()) p[t.name] = t.tensor;
    ASSERT_EQ(p["imprint_bins.weight"].sizes(), torch::IntArrayRef({5, 3 * 32 * 32}));
    ASSERT_EQ(p["imprint_out.weight"].sizes(), torch::IntArrayRef({3 * 32 * 32, 5}));
    EXPECT_EQ(model.named_parameters().front().name, "imprint_bins.weight");
    EXPECT_EQ(model.FirstLinearLayer()->name, "imprint_bins") << ArchitectureName(a);
    // The classifier behind it: the spec without the block, WS kept.
    ModelSpec behind = spec;
    behind.imprint_bins = 0;
    Model classifier = BuildModel(behind, 0).value();
    std::vector<NamedTensor> state;
    for (const NamedTensor& t : classifier.named_state()) state.push_back({t.name, p.at("model." + t.name)});
    ASSERT_THAT(LoadState(classifier, state), IsOk());
    classifier.train(false);
    const torch::Tensor x = torch::randn({2, 3, 32, 32});
    const torch::Tensor h = torch::relu(x.flatten(1).matmul(p["imprint_bins.weight"].t()) + p["imprint_bins.bias"]);
    const torch::Tensor shifted = x + (h.matmul(p["imprint_out.weight"].t()) + p["imprint_out.bias"]).view_as(x);
    EXPECT_TRUE(torch::allclose(model.forward(x), classifier.forward(shifted), 1e-5, 1e-5)) << ArchitectureName(a);
    EXPECT_TRUE(torch::equal(model.Clone().forward(x), model.forward(x))) << ArchitectureName(a);
  }
}

TEST(ImprintBlockTest, ItsBinsTravelInTheSpecJsonAndAnHonestSpecReadsAsBefore) {
  ModelSpec spec = Spec(Architecture::kMlp, kGray);
  EXPECT_EQ(ModelSpecToJson(spec).find("imprint_bins"), std::string::npos);
  EXPECT_EQ(ModelSpecFromJson(ModelSpecToJson(spec))->imprint_bins, 0);
  spec.imprint_bins = 64;
  EXPECT_EQ(ModelSpecFromJson(ModelSpecToJson(spec))->imprint_bins, 64);
  EXPECT_THAT(ModelSpecFromJson(R"({"architecture": "mlp", "input": [1, 28, 28], "num_classes": 10, )"
                                R"("split_gamma": 0, "imprint_bins": -1})"),
              StatusIs(absl::StatusCode::kInvalidArgument, "imprint_bins"));
  EXPECT_THAT(ModelSpecFromJson(R"({"architecture": "mlp", "input": [1, 28, 28], "num_classes": 10, )"
                                R"("split_gamma": 0, "imprint_bins": 65537})"),
              StatusIs(absl::StatusCode::kInvalidArgument, "imprint_bins"));
}

TEST(WeightSplitTest, LinearEqualsBlockSumOfPlainOutput) {
  torch::manual_seed(0);
  torch::nn::Linear layer(12, 8);
  torch::NoGradGuard no_grad;
  layer->bias.uniform_(-1, 1);
  const torch::Tensor x = torch::randn({5, 12});
  for (int64_t gamma : {2, 4}) {
    const torch::Tensor expected = BlockSumByLoops(layer->forward(x), gamma);
    EXPECT_TRUE(torch::allclose(SplitLinearForward(layer, x, gamma), expected, 1e-5, 1e-5));
  }
  // [a, b, c, d] -> [a+b, a+b, c+d, c+d] on a hand-built layer.
  torch::nn::Linear tiny(1, 4);
  tiny->weight.copy_(torch::tensor({1.0f, 2.0f, 3.0f, 4.0f}).view({4, 1}));
  tiny->bias.copy_(torch::tensor({0.5f, 0.0f, 0.0f, 1.0f}));
  const torch::Tensor y = SplitLinearForward(tiny, torch::ones({1, 1}), 2);
  EXPECT_TRUE(torch::equal(y, torch::tensor({{3.5f, 3.5f, 8.0f, 8.0f}})));
}

TEST(WeightSplitTest, Conv2dEqualsBlockSumOfPlainOutput) {
  torch::manual_seed(1);
  torch::nn::Conv2d conv(torch::nn::Conv2dOptions(3, 6, 3).stride(2).padding(1));
  torch::NoGradGuard no_grad;
  conv->bias.uniform_(-1, 1);
  const torch::Tensor x = torch::randn({2, 3, 9, 9});
  const torch::Tensor expected = BlockSumByLoops(conv->forward(x), 2);
  EXPECT_TRUE(torch::allclose(SplitConv2dForward(conv, x, 2), expected, 1e-5, 1e-5));
}

TEST(WeightSplitTest, RowsOfOneBlockReceiveIdenticalGradients) {
  torch::manual_seed(2);
  torch::nn::Linear layer(6, 4);
  const torch::Tensor x = torch::randn({3, 6});
  SplitLinearForward(layer, x, 2).pow(2).sum().backward();
  const torch::Tensor g = layer->weight.grad();
  EXPECT_TRUE(torch::equal(g[0], g[1]));
  EXPECT_TRUE(torch::equal(g[2], g[3]));
  EXPECT_FALSE(torch::equal(g[0], g[2]));
  EXPECT_TRUE(torch::equal(layer->bias.grad()[0], layer->bias.grad()[1]));
  torch::nn::Conv2d conv(torch::nn::Conv2dOptions(2, 4, 3));
  SplitConv2dForward(conv, torch::randn({2, 2, 5, 5}), 2).pow(2).sum().backward();
  EXPECT_TRUE(torch::equal(conv->weight.grad()[0], conv->weight.grad()[1]));
  EXPECT_TRUE(torch::equal(conv->weight.grad()[2], conv->weight.grad()[3]));
}

TEST(WeightSplitTest, SplitMlpMatchesHandWiredNetwork) {
  auto model = BuildModel(Spec(Architecture::kMlp, kGray, 10, 2), 4);
  ASSERT_THAT(model, IsOk());
  torch::Tensor w1, b1, w2, b2;
  for (const auto& p : model->named_parameters()) {
    if (p.name == "fc1.weight") w1 = p.tensor;
    if (p.name == "fc1.bias") b1 = p.tensor;
    if (p.name == "fc2.weight") w2 = p.tensor;
    if (p.name == "fc2.bias") b2 = p.tensor;
  }
  torch::NoGradGuard no_grad;
  b1.uniform_(-0.1, 0.1);
  const torch::Tensor x = torch::randn({4, 1, 28, 28});
  const torch::Tensor hidden = BlockSumByLoops(x.flatten(1).matmul(w1.t()) + b1, 2).relu();
  const torch::Tensor expected = hidden.matmul(w2.t()) + b2;
  EXPECT_TRUE(torch::allclose(model->forward(x), expected, 1e-4, 1e-4));
}

}  // namespace
}  // namespace biofed
