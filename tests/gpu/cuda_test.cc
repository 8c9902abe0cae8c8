// CUDA against the CPU on the same seeds: a training step with FL+WR+WS,
// WR's law and its stream on a large layer, one Inverting-Gradients
// iteration and a short attack; and a CUDA graph of a step against eager
// steps. Every test skips, saying why, where LibTorch sees no CUDA device:
// the same binary runs in CTest on the CPU machine and in bench/gpu.sh on a
// GPU machine. float32 tolerances: reductions over up to ~1e6 terms summed
// in a different order differ by ~sqrt(n) * 6e-8 relative, ~1e-4 at most.
#include <cmath>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "attack/attack.h"
#include "attack/gradient_matching.h"
#include "attack/victim.h"
#include "client/step_runner.h"
#include "client/training_step.h"
#include "client/weight_rejuvenation.h"
#include "common/runtime.h"
#include "tests/testing/status_matchers.h"

namespace biofed {
namespace {

using ::biofed::testing::IsOk;

class CudaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!CudaAvailable()) {
      GTEST_SKIP() << "no CUDA device here: these checks run on a GPU machine (bench/gpu.sh)";
    }
    cuda_ = ResolveDevice("cuda").value();  // also turns TF32 off
    torch::manual_seed(0);
  }

  torch::Device cuda_{torch::kCPU};
};

BiomodOptions AllMechanisms() {
  BiomodOptions o;
  o.fuzzy_learning_rates = o.rejuvenation = o.weight_splitting = true;
  return o;
}

Model BuildWithWs(Architecture architecture, InputShape input, uint64_t seed) {
  ModelSpec spec;
  spec.architecture = architecture;
  spec.input = input;
  spec.split_gamma = AllMechanisms().split_gamma();
  return BuildModel(spec, seed).value();
}

// Entries of a and b (CPU) further apart than atol + rtol |b|.
int64_t Mismatches(const torch::Tensor& a, const torch::Tensor& b, double rtol, double atol) {
  return ((a - b).abs() > atol + rtol * b.abs()).sum().item<int64_t>();
}

// One SGD step with FL+WR+WS from the same model and seed on both devices.
// The FL factors are drawn on the host and copied, and WR draws the same
// counter-based words on both (rejuvenation_law.h) from the same max|W|, so
// the same weights are reset to the same values; the gradient step differs
// by float32 summation order only: lr * |dg| << 1e-5.
TEST_F(CudaTest, TrainingStepWithFlWrWsMatchesCpu) {
  for (auto [architecture, input] : {std::pair<Architecture, InputShape>{Architecture::kMlp, {1, 28, 28}},
                                     {Architecture::kResNet20, {3, 32, 32}}}) {
    SCOPED_TRACE(ArchitectureName(architecture));
    Model cpu_model = BuildWithWs(architecture, input, 4);
    Model cuda_model = cpu_model.Clone(cuda_);
    TrainingStep cpu(cpu_model, AllMechanisms(), OptimizerOptions{"sgd", 0.05, 0, 0}, 9);
    TrainingStep cuda(cuda_model, AllMechanisms(), OptimizerOptions{"sgd", 0.05, 0, 0}, 9);
    const torch::Tensor x = torch::randn({16, input.channels, input.height, input.width});
    const torch::Tensor y = torch::randint(0, 10, {16}, torch::kLong);
    const StepOutput cpu_out = cpu.Step(x, y);
    const StepOutput cuda_out = cuda.Step(x.to(cuda_), y.to(cuda_));
    EXPECT_NEAR(cpu_out.loss.item<double>(), cuda_out.loss.item<double>(), 1e-4);
    EXPECT_EQ(cpu.rejuvenation()->MeanResetFractions(), cuda.rejuvenation()->MeanResetFractions());
    const auto a = cpu.model().named_state();
    const auto b = cuda.model().named_state();
    ASSERT_EQ(a.size(), b.size());
    for (size_t i = 0; i < a.size(); ++i) {
      if (!a[i].tensor.is_floating_point()) continue;
      EXPECT_EQ(Mismatches(b[i].tensor.cpu(), a[i].tensor, 1e-4, 1e-5), 0) << a[i].name;
    }
  }
}

// WR on a layer of 4M weights (the CUDA kernels where built, else tensor
// operations on the GPU) resets the same weights to the same values as the
// fused CPU pass, and the first pass's reset fraction follows the law: for
// w ~ U(-1, 1) with max |w| = 1 and d_re = 14, the reference variant resets
// (1/14) * integral_0^14 erfc(x / sqrt 2) dx ~ sqrt(2 / pi) / 14 = 0.0570,
// the paper's variant half of it, 0.0285; 5 binomial standard deviations
// (~1.2e-4 and 0.8e-4) plus the integral's tail are allowed.
TEST_F(CudaTest, RejuvenationOfALargeLayerFollowsTheLawAndEqualsCpu) {
  const int64_t n = int64_t{1} << 22;
  for (auto [variant, expected] :
       {std::pair<RejuvenationVariant, double>{RejuvenationVariant::kReference, std::sqrt(2 / M_PI) / 14},
        {RejuvenationVariant::kPaper, std::sqrt(2 / M_PI) / 28}}) {
    SCOPED_TRACE(RejuvenationVariantName(variant));
    torch::manual_seed(3);
    torch::Tensor cpu_w = torch::empty({n}).uniform_(-1, 1);
    cpu_w[0] = 1.0f;
    torch::Tensor cuda_w = cpu_w.to(cuda_);
    WeightRejuvenation cpu_wr({{"w", cpu_w}}, 14.0, variant, 5);
    WeightRejuvenation cuda_wr({{"w", cuda_w}}, 14.0, variant, 5);
    cpu_wr.Apply();
    cuda_wr.Apply();
    EXPECT_TRUE(torch::equal(cpu_w, cuda_w.cpu()));
    const double fraction = cuda_wr.MeanResetFractions()[0];
    EXPECT_EQ(fraction, cpu_wr.MeanResetFractions()[0]);
    const double sd = std::sqrt(expected * (1 - expected) / static_cast<double>(n));
    EXPECT_NEAR(fraction, expected, 5 * sd + 1e-4) << "kernels built: " << RejuvenationKernelsBuilt();
    // A second pass draws new words on both (the call counter advanced).
    cpu_wr.ResetStatistics();
    cuda_wr.ResetStatistics();
    cpu_wr.Apply();
    cuda_wr.Apply();
    EXPECT_TRUE(torch::equal(cpu_w, cuda_w.cpu()));
    EXPECT_EQ(cuda_wr.MeanResetFractions(), cpu_wr.MeanResetFractions());
    EXPECT_GT(cuda_wr.MeanResetFractions()[0], 0.0);
  }
}

// The tensor-operation pass on the GPU (what a build without the kernels
// runs) equals the fused CPU pass too.
TEST_F(CudaTest, TensorOperationPassOnCudaEqualsCpu) {
  torch::manual_seed(4);
  torch::Tensor cpu_w = torch::empty({1 << 20}).uniform_(-0.2, 0.2);
  torch::Tensor cuda_w = cpu_w.to(cuda_);
  const int64_t cpu_resets = RejuvenateOnCpu(cpu_w, 8.0, RejuvenationVariant::kReference, 11, 3);
  const int64_t cuda_resets =
      RejuvenateWithTensorOps(cuda_w, 8.0, RejuvenationVariant::kReference, 11, 3).item<int64_t>();
  EXPECT_EQ(cpu_resets, cuda_resets);
  EXPECT_TRUE(torch::equal(cpu_w, cuda_w.cpu()));
}

// One Inverting-Gradients iteration: the objective (1 - cos of the gradient
// match + TV) and its gradient w.r.t. the images, on each model, BatchNorm
// in train mode, batch 2.
TEST_F(CudaTest, OneInvertingGradientsIterationMatchesCpu) {
  for (Architecture architecture : {Architecture::kMlp, Architecture::kAlexNet, Architecture::kResNet20}) {
    SCOPED_TRACE(ArchitectureName(architecture));
    ModelSpec spec;
    spec.architecture = architecture;
    Model cpu_model = BuildModel(spec, 2).value();
    cpu_model.train(true);
    Model cuda_model = cpu_model.Clone(cuda_);
    cuda_model.train(true);
    torch::manual_seed(5);
    const torch::Tensor truth = torch::randn({2, 1, 28, 28});
    const torch::Tensor labels = torch::randint(0, 10, {2}, torch::kLong);
    const torch::Tensor start = torch::randn({2, 1, 28, 28});
    auto iterate = [&](const Model& model, const torch::Device& device) {
      std::vector<torch::Tensor> target;
      for (const auto& g : CandidateGradients(model, truth.to(device), labels.to(device), false)) {
        target.push_back(g.detach());
      }
      const torch::Tensor x = start.to(device).requires_grad_(true);
      const torch::Tensor value =
          CosineDistance(CandidateGradients(model, x, labels.to(device), /*create_graph=*/true), target) +
          1e-6 * TotalVariation(x);
      const torch::Tensor grad = torch::autograd::grad({value}, {x})[0];
      return std::pair<double, torch::Tensor>{value.item<double>(), grad.cpu()};
    };
    const auto [cpu_value, cpu_grad] = iterate(cpu_model, torch::kCPU);
    const auto [cuda_value, cuda_grad] = iterate(cuda_model, cuda_);
    EXPECT_NEAR(cpu_value, cuda_value, 1e-4 * std::max(1.0, std::abs(cpu_value)));
    const double scale = cpu_grad.abs().max().item<double>();
    EXPECT_EQ(Mismatches(cuda_grad, cpu_grad, 1e-3, 1e-3 * scale), 0);
  }
}

// 30 iterations of the real attack on a real Fashion-MNIST victim (MLP,
// batch 1, labels known). The attack steps by the sign of the gradient, so
// the devices take identical steps except on pixels whose gradient is
// within rounding of zero; those stay few over 30 iterations.
TEST_F(CudaTest, ShortAttackMatchesCpu) {
  auto data = LoadDataset("fashion-mnist", "");
  ASSERT_THAT(data, IsOk()) << "set BIOFED_DATA_ROOT to a folder holding fashion-mnist/";
  VictimOptions victim;
  victim.seed = 6;
  auto capture = MakeVictimCapture(victim, *data);
  ASSERT_THAT(capture, IsOk());
  AttackerKnowledge knowledge;
  knowledge.labels = std::vector<int64_t>{capture->audit->labels[0].item<int64_t>()};
  ThreatModel threat;
  threat.labels_known = true;
  AttackConfig config;
  config.iterations = 30;
  config.report_every = 0;
  auto cpu = RunAttack(capture->record, knowledge, threat, config, torch::kCPU);
  auto cuda = RunAttack(capture->record, knowledge, threat, config, cuda_);
  ASSERT_THAT(cpu, IsOk());
  ASSERT_THAT(cuda, IsOk());
  EXPECT_NEAR(cpu->objective, cuda->objective, 1e-3 + 1e-2 * cpu->objective);
  const int64_t pixels = cpu->images.numel();
  EXPECT_LE(Mismatches(cuda->images, cpu->images, 0, 1e-3), pixels / 100);
}

// A training loop whose steps run as a CUDA graph (StepRunner: the first
// batch trains eagerly while the graph is captured, the next ones replay it)
// equals an eager loop on the same seed and batches, a last partial batch
// included: WR's pass counter advances on the device, so each replay draws
// new words (a frozen counter would redraw the same resets).
TEST_F(CudaTest, StepsReplayedAsACudaGraphEqualEagerSteps) {
  Model eager_model = BuildWithWs(Architecture::kMlp, {1, 28, 28}, 8).Clone(cuda_);
  Model graph_model = eager_model.Clone(cuda_);
  TrainingStep eager(eager_model, AllMechanisms(), OptimizerOptions{"sgd", 0.05, 0.5, 0}, 3);
  TrainingStep graphed(graph_model, AllMechanisms(), OptimizerOptions{"sgd", 0.05, 0.5, 0}, 3);
  StepRunner runner(graphed);
  EXPECT_EQ(runner.graphs(), RejuvenationKernelsBuilt());
  for (int i = 0; i < 5; ++i) {
    const int64_t batch = i == 4 ? 7 : 32;
    const torch::Tensor x = torch::randn({batch, 1, 28, 28}).to(cuda_);
    const torch::Tensor y = torch::randint(0, 10, {batch}, torch::kLong).to(cuda_);
    const double eager_loss = eager.Step(x, y).loss.item<double>();
    const double graph_loss = runner.Step(x, y).loss.item<double>();
    EXPECT_NEAR(eager_loss, graph_loss, 1e-5) << "step " << i;
  }
  EXPECT_EQ(eager.rejuvenation()->MeanResetFractions(), graphed.rejuvenation()->MeanResetFractions());
  const auto a = eager.model().parameters();
  const auto b = graphed.model().parameters();
  for (size_t i = 0; i < a.size(); ++i) EXPECT_EQ(Mismatches(b[i].cpu(), a[i].cpu(), 1e-5, 1e-6), 0);
}

}  // namespace
}  // namespace biofed
