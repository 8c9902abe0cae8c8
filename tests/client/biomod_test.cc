#include <cmath>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "client/fuzzy_learning_rates.h"
#include "client/seeds.h"
#include "client/step_runner.h"
#include "client/training_step.h"
#include "client/weight_rejuvenation.h"
#include "models/model.h"
#include "tests/testing/status_matchers.h"

namespace biofed {
namespace {

Model Mlp(int64_t gamma = 0, uint64_t seed = 0) {
  ModelSpec spec;
  spec.split_gamma = gamma;
  return BuildModel(spec, seed).value();
}

BiomodOptions Options(bool fl, bool wr, bool ws) {
  BiomodOptions o;
  o.fuzzy_learning_rates = fl;
  o.rejuvenation = wr;
  o.weight_splitting = ws;
  return o;
}

std::vector<torch::Tensor> Snapshot(const std::vector<torch::Tensor>& tensors) {
  std::vector<torch::Tensor> out;
  for (const auto& t : tensors) out.push_back(t.detach().clone());
  return out;
}

TEST(FuzzyLearningRatesTest, FactorsLieInRangeWithMeanOne) {
  const Model model = Mlp();
  const double tau = 0.18;
  FuzzyLearningRates fl(model.MechanismTargets(), tau, 7);
  const torch::Tensor all = torch::cat({fl.factors()[0].flatten(), fl.factors()[1].flatten()});
  EXPECT_GE(all.min().item<double>(), 1 - tau / 2);
  EXPECT_LE(all.max().item<double>(), 1 + tau / 2);
  // U(1 - tau/2, 1 + tau/2) has standard deviation tau / sqrt(12).
  const double standard_error = tau / std::sqrt(12.0) / std::sqrt(static_cast<double>(all.numel()));
  EXPECT_NEAR(all.to(torch::kDouble).mean().item<double>(), 1.0, 3 * standard_error);
}

TEST(FuzzyLearningRatesTest, FactorsAreAFunctionOfTheSeed) {
  const Model model = Mlp();
  FuzzyLearningRates a(model.MechanismTargets(), 0.18, 7);
  FuzzyLearningRates b(model.MechanismTargets(), 0.18, 7);
  FuzzyLearningRates c(model.MechanismTargets(), 0.18, 8);
  EXPECT_TRUE(torch::equal(a.factors()[0], b.factors()[0]));
  EXPECT_FALSE(torch::equal(a.factors()[0], c.factors()[0]));
  EXPECT_TRUE(torch::equal(a.factors()[1], DrawFuzzyFactors({10, 1000}, 0.18, 7, 1)));
}

TEST(FuzzyLearningRatesTest, ScalesWeightGradientsExactlyAndLeavesBiasesAlone) {
  Model model = Mlp();
  const torch::Tensor x = torch::randn({8, 1, 28, 28});
  const torch::Tensor y = torch::randint(0, 10, {8}, torch::kLong);
  torch::nn::functional::cross_entropy(model.forward(x), y).backward();
  std::vector<torch::Tensor> raw_weight_grads, raw_bias_grads;
  for (const auto& p : model.named_parameters()) {
    (p.name.find("bias") != std::string::npos ? raw_bias_grads : raw_weight_grads)
        .push_back(p.tensor.grad().clone());
  }
  FuzzyLearningRates fl(model.MechanismTargets(), 0.18, 3);
  fl.Apply();
  size_t w = 0, b = 0;
  for (const auto& p : model.named_parameters()) {
    if (p.name.find("bias") != std::string::npos) {
      EXPECT_TRUE(torch::equal(p.tensor.grad(), raw_bias_grads[b++])) << p.name;
    } else {
      EXPECT_TRUE(torch::equal(p.tensor.grad(), raw_weight_grads[w] * fl.factors()[w])) << p.name;
      ++w;
    }
  }
}

TEST(FuzzyLearningRatesTest, FactorsStayFixedAcrossSteps) {
  TrainingStep step(Mlp(), Options(true, true, false), OptimizerOptions{}, 11);
  const auto before = Snapshot(step.fuzzy()->factors());
  for (int i = 0; i < 3; ++i) step.Step(torch::randn({4, 1, 28, 28}), torch::randint(0, 10, {4}, torch::kLong));
  for (size_t i = 0; i < before.size(); ++i) EXPECT_TRUE(torch::equal(before[i], step.fuzzy()->factors()[i]));
}

// A layer of n weights uniform in [-1, 1] with max |w| exactly 1.
torch::Tensor UniformLayer(int64_t n, uint64_t seed) {
  torch::manual_seed(seed);
  torch::Tensor w = torch::empty({n}).uniform_(-1, 1);
  w[0] = 1.0f;
  return w;
}

// Reset probability written from the definitions: reference P(sigma |Z| > |w|)
// = erfc(|w| / (sigma sqrt 2)); paper 1 - Phi(|w| / sigma) = erfc(|w| / (sigma sqrt 2)) / 2.
double ExpectedResetProbability(double w, double sigma, RejuvenationVariant variant) {
  if (variant == RejuvenationVariant::kReference) return std::erfc(std::abs(w) / (sigma * std::sqrt(2.0)));
  return 0.5 * std::erfc(std::abs(w) / (sigma * std::sqrt(2.0)));
}

enum class Path { kFusedCpu, kTensorOps };

class RejuvenationLawTest
    : public ::testing::TestWithParam<std::tuple<RejuvenationVariant, Path, double>> {};

// Bins weights by value and compares the reset count of each bin with the
// sum of the exact per-weight probabilities. Resets are independent
// Bernoulli draws, so a bin's count has variance sum p(1 - p); the test
// allows 5 standard deviations (plus 1 for rounding), a false-alarm rate
// below 1e-5 over all bins and cases (and the seeds are fixed).
TEST_P(RejuvenationLawTest, ResetFractionPerBinMatchesTheLaw) {
  const auto [variant, path, d_re] = GetParam();
  const int64_t n = 1 << 20;
  const torch::Tensor original = UniformLayer(n, 5);
  torch::Tensor w = original.clone();
  if (path == Path::kFusedCpu) {
    RejuvenateOnCpu(w, d_re, variant, /*key=*/99, /*subsequence=*/3);
  } else {
    RejuvenateWithTensorOps(w, d_re, variant, /*key=*/99, /*subsequence=*/3);
  }
  const double sigma = 1.0 / d_re + 1e-13;
  const float* before = original.data_ptr<float>();
  const float* after = w.data_ptr<float>();
  constexpr int kBins = 20;
  const bool signed_bins = variant == RejuvenationVariant::kPaper;
  std::vector<double> expected(kBins, 0), variance(kBins, 0), observed(kBins, 0);
  std::vector<double> fresh;
  for (int64_t i = 0; i < n; ++i) {
    const double v = before[i];
    const double pos = signed_bins ? (v + 1) / 2 : std::abs(v);
    const int bin = std::min(kBins - 1, static_cast<int>(pos * kBins));
    const double p = ExpectedResetProbability(v, sigma, variant);
    expected[bin] += p;
    variance[bin] += p * (1 - p);
    if (after[i] != before[i]) {
      observed[bin] += 1;
      fresh.push_back(after[i]);
    }
  }
  for (int b = 0; b < kBins; ++b) {
    EXPECT_NEAR(observed[b], expected[b], 5 * std::sqrt(variance[b]) + 1) << "bin " << b;
  }
  // New values lie in [-m, m] (m = 1) and are uniform: Pearson chi-square
  // over 10 equal bins against the 0.1% critical value of chi2(9), 27.88.
  ASSERT_GT(fresh.size(), 1000u);
  std::vector<double> counts(10, 0);
  for (double v : fresh) {
    ASSERT_GE(v, -1.0);
    ASSERT_LE(v, 1.0);
    counts[std::min(9, static_cast<int>((v + 1) / 2 * 10))] += 1;
  }
  double chi2 = 0;
  const double each = fresh.size() / 10.0;
  for (double c : counts) chi2 += (c - each) * (c - each) / each;
  EXPECT_LT(chi2, 27.88);
}

INSTANTIATE_TEST_SUITE_P(
    VariantsPathsDistances, RejuvenationLawTest,
    ::testing::Combine(::testing::Values(RejuvenationVariant::kReference, RejuvenationVariant::kPaper),
                       ::testing::Values(Path::kFusedCpu, Path::kTensorOps),
                       ::testing::Values(1.0, 14.0)));

// The tensor-operation pass (the one other devices run) draws the same words
// and decides with the same law as the fused CPU loop, so both reset the same
// weights to the same values. Only a probability within a rounding error of
// its uniform could be decided differently (erfc implementations differ in
// the last bits): about 1e-16 per weight, never at these sizes.
TEST(WeightRejuvenationTest, TensorOperationPassEqualsTheFusedCpuPass) {
  for (RejuvenationVariant variant : {RejuvenationVariant::kReference, RejuvenationVariant::kPaper}) {
    for (uint64_t subsequence : {uint64_t{0}, uint64_t{7}, (uint64_t{5} << 16) | 2}) {
      const torch::Tensor original = UniformLayer(300001, subsequence + 1);
      torch::Tensor fused = original.clone();
      torch::Tensor ops = original.clone();
      const int64_t fused_resets = RejuvenateOnCpu(fused, 14.0, variant, /*key=*/1234, subsequence);
      const int64_t ops_resets =
          RejuvenateWithTensorOps(ops, 14.0, variant, /*key=*/1234, subsequence).item<int64_t>();
      EXPECT_GT(fused_resets, 1000);
      EXPECT_EQ(fused_resets, ops_resets);
      EXPECT_TRUE(torch::equal(fused, ops)) << "subsequence " << subsequence;
    }
  }
}

// The paper's law acts on the magnitude: weights of either sign and equal
// size reset equally often. Here half the layer is +0.05 and half -0.05 (one
// weight at 1 fixes m), d_re = 14: sigma = 1/14, |w| / sigma = 0.7, so each
// resets with p = erfc(0.7 / sqrt 2) / 2 = 0.24196 (the signed law gave the
// negative half 1 - Phi(-0.7) = 0.75804). 5 binomial standard deviations.
TEST(WeightRejuvenationTest, PaperVariantResetsBothSignsByMagnitude) {
  const int64_t n = 1 << 18;
  torch::Tensor w = torch::full({n}, 0.05f);
  w.slice(0, 0, n / 2).fill_(-0.05f);
  w[n - 1] = 1.0f;
  const torch::Tensor before = w.clone();
  RejuvenateOnCpu(w, 14.0, RejuvenationVariant::kPaper, /*key=*/21, /*subsequence=*/0);
  const double p = 0.5 * std::erfc(0.7 / std::sqrt(2.0));
  const double half = n / 2;
  const double sd = std::sqrt(half * p * (1 - p));
  const torch::Tensor changed = w.ne(before);
  EXPECT_NEAR(changed.slice(0, 0, n / 2).sum().item<double>(), half * p, 5 * sd);
  EXPECT_NEAR(changed.slice(0, n / 2, n - 1).sum().item<double>(), (half - 1) * p, 5 * sd);
}

TEST(WeightRejuvenationTest, ResetsAbout6PercentOfAUniformLayerAtDre14) {
  // For |w| ~ U(0, m) and sigma = m / 14 the expected fraction is
  // (1/14) * integral_0^14 erfc(x / sqrt 2) dx ~ sqrt(2 / pi) / 14 = 0.0570.
  torch::Tensor w = UniformLayer(1 << 20, 8);
  const int64_t resets = RejuvenateOnCpu(w, 14.0, RejuvenationVariant::kReference, 1, 0);
  EXPECT_NEAR(static_cast<double>(resets) / (1 << 20), std::sqrt(2 / M_PI) / 14, 0.002);
}

TEST(WeightRejuvenationTest, LeavesGradientsAndBiasesAlone) {
  Model model = Mlp();
  torch::nn::functional::cross_entropy(model.forward(torch::randn({4, 1, 28, 28})),
                                       torch::randint(0, 10, {4}, torch::kLong))
      .backward();
  std::vector<torch::Tensor> grads, biases;
  for (const auto& p : model.named_parameters()) {
    grads.push_back(p.tensor.grad().clone());
    if (p.name.find("bias") != std::string::npos) biases.push_back(p.tensor.detach().clone());
  }
  WeightRejuvenation wr(model.MechanismTargets(), 14, RejuvenationVariant::kReference, 4);
  const auto weights_before = Snapshot(model.parameters());
  wr.Apply();
  size_t g = 0, b = 0;
  for (const auto& p : model.named_parameters()) {
    EXPECT_TRUE(torch::equal(p.tensor.grad(), grads[g++])) << p.name;
    if (p.name.find("bias") != std::string::npos) {
      EXPECT_TRUE(torch::equal(p.tensor, biases[b++])) << p.name;
    }
  }
  EXPECT_FALSE(torch::equal(model.parameters()[0], weights_before[0]));
  const auto fractions = wr.MeanResetFractions();
  ASSERT_EQ(fractions.size(), 2u);
  EXPECT_GT(fractions[0], 0.01);
  EXPECT_LT(fractions[0], 0.2);
}

// One SGD step with FL + WR, recomputed here from the formulas: the raw
// gradient from a separate autograd pass, the WR decisions from the
// documented stream (SplitMix64 counters keyed by the client's WR seed,
// subsequence (call << 16 | layer), one word per weight) and std::erfc, then
// w <- reset(w) - lr * F * g.
TEST(TrainingStepTest, OneFlWrSgdStepMatchesTheFormulas) {
  const uint64_t seed = 21;
  const double lr = 0.05, d_re = 3.0;
  Model model = Mlp(0, 2);
  Model reference = model.Clone();
  const torch::Tensor x = torch::randn({5, 1, 28, 28});
  const torch::Tensor y = torch::randint(0, 10, {5}, torch::kLong);
  torch::nn::functional::cross_entropy(reference.forward(x), y).backward();

  BiomodOptions biomod = Options(true, true, false);
  biomod.d_re = d_re;
  TrainingStep step(model, biomod, OptimizerOptions{"sgd", lr, 0, 0}, seed);
  step.Step(x, y);

  const uint64_t key = MixSeed(seed, kRejuvenationStream, 0);
  const auto targets = reference.MechanismTargets();
  for (size_t layer = 0; layer < targets.size(); ++layer) {
    const torch::Tensor w0 = targets[layer].tensor.detach().flatten();
    const torch::Tensor g = targets[layer].tensor.grad().flatten();
    const torch::Tensor f = DrawFuzzyFactors(targets[layer].tensor.sizes(), 0.18, seed, layer).flatten();
    const double m = w0.abs().max().item<float>();
    const double sigma = m / d_re + 1e-13;
    const torch::Tensor actual = step.targets()[layer].tensor.detach().flatten();
    int64_t mismatches = 0;
    for (int64_t i = 0; i < w0.numel(); ++i) {
      // SplitMix64 counter stream, written out from its definition.
      uint64_t z = SplitMix64(key ^ SplitMix64(layer)) + static_cast<uint64_t>(i) * 0x9e3779b97f4a7c15ULL;
      z += 0x9e3779b97f4a7c15ULL;
      z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
      z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
      z ^= z >> 31;
      const double u = (static_cast<double>(z >> 32) + 0.5) / 4294967296.0;
      float value = w0[i].item<float>();
      if (u < std::erfc(std::abs(value) / (sigma * std::sqrt(2.0)))) {
        value = static_cast<float>(m) *
                static_cast<float>(2.0 * ((static_cast<double>(z & 0xffffffffULL) + 0.5) / 4294967296.0) - 1.0);
      }
      const float expected = value - static_cast<float>(lr) * (g[i].item<float>() * f[i].item<float>());
      if (std::abs(actual[i].item<float>() - expected) > 1e-6f) ++mismatches;
      if (i > 20000) break;  // enough weights to cover many resets; keeps the test fast
    }
    EXPECT_EQ(mismatches, 0) << targets[layer].name;
  }
  // Biases follow plain SGD.
  for (const auto& p : reference.named_parameters()) {
    if (p.name.find("bias") == std::string::npos) continue;
    for (const auto& q : step.model().named_parameters()) {
      if (q.name == p.name) {
        EXPECT_TRUE(torch::allclose(q.tensor, p.tensor - lr * p.tensor.grad(), 1e-6, 1e-7)) << p.name;
      }
    }
  }
}

TEST(TrainingStepTest, SameSeedGivesBitIdenticalWeightsOnCpu) {
  auto run = [] {
    torch::manual_seed(0);
    TrainingStep step(Mlp(2, 1), Options(true, true, true), OptimizerOptions{"sgd", 0.05, 0.9, 0}, 5);
    for (int i = 0; i < 6; ++i) {
      step.Step(torch::randn({16, 1, 28, 28}), torch::randint(0, 10, {16}, torch::kLong));
    }
    return Snapshot(step.model().parameters());
  };
  const auto a = run();
  const auto b = run();
  for (size_t i = 0; i < a.size(); ++i) EXPECT_TRUE(torch::equal(a[i], b[i]));
}

TEST(RejuvenationScheduleTest, NamesParseBackAndBadOnesAreRefused) {
  for (const std::string name : {"1", "10", "round-start", "round-end"}) {
    auto schedule = ParseRejuvenationSchedule(name);
    ASSERT_TRUE(schedule.ok()) << name;
    EXPECT_EQ(RejuvenationScheduleName(*schedule), name);
  }
  EXPECT_EQ(ParseRejuvenationSchedule("10")->every, 10);
  for (const std::string bad : {"0", "-2", "x", "01", "1.5", "round"}) {
    EXPECT_FALSE(ParseRejuvenationSchedule(bad).ok()) << bad;
  }
}

// WR every 3 steps runs in the client's steps 0, 3 and 6 (counted from 0)
// and no other; once per round, never inside a step (the client calls it).
TEST(TrainingStepTest, WrRunsAtTheStepsItsScheduleNames) {
  BiomodOptions every3 = Options(false, true, false);
  every3.wr_every = *ParseRejuvenationSchedule("3");
  TrainingStep step(Mlp(), every3, OptimizerOptions{"sgd", 0.05, 0, 0}, 5);
  EXPECT_TRUE(step.rejuvenation_varies_by_step());
  const torch::Tensor x = torch::randn({4, 1, 28, 28});
  const torch::Tensor y = torch::randint(0, 10, {4}, torch::kLong);
  for (int64_t s = 0; s < 7; ++s) {
    step.rejuvenation()->ResetStatistics();
    step.Step(x, y);
    const std::vector<double> fractions = step.rejuvenation()->MeanResetFractions();
    const double total = fractions[0] + fractions[1];
    if (s % 3 == 0) {
      EXPECT_GT(total, 0) << s;
    } else {
      EXPECT_EQ(total, 0) << s;
    }
  }
  for (const std::string once : {"round-start", "round-end"}) {
    BiomodOptions round = Options(false, true, false);
    round.wr_every = *ParseRejuvenationSchedule(once);
    TrainingStep per_round(Mlp(), round, OptimizerOptions{"sgd", 0.05, 0, 0}, 5);
    EXPECT_FALSE(per_round.rejuvenation_varies_by_step());
    per_round.rejuvenation()->ResetStatistics();
    per_round.Step(x, y);
    const std::vector<double> fractions = per_round.rejuvenation()->MeanResetFractions();
    EXPECT_EQ(fractions[0] + fractions[1], 0) << once;
  }
}

TEST(TrainingStepTest, AdamAndSgdBothTrain) {
  for (const std::string name : {"sgd", "adam"}) {
    torch::manual_seed(3);
    TrainingStep step(Mlp(2), Options(true, true, true), OptimizerOptions{name, name == "sgd" ? 0.1 : 1e-3, 0, 0}, 1);
    const torch::Tensor x = torch::randn({32, 1, 28, 28});
    const torch::Tensor y = torch::randint(0, 10, {32}, torch::kLong);
    const double first = step.Step(x, y).loss.item<double>();
    double last = first;
    for (int i = 0; i < 20; ++i) last = step.Step(x, y).loss.item<double>();
    EXPECT_LT(last, first * 0.5) << name;
  }
}

// Off the GPU (and wherever a CUDA graph does not apply) a StepRunner runs
// the step itself: bit for bit the same training. tests/gpu/cuda_test.cc
// checks its graphs against eager steps on a GPU.
TEST(StepRunnerTest, RunsEagerStepsOnTheCpu) {
  Model direct_model = Mlp(2, 1);
  Model runner_model = direct_model.Clone();
  TrainingStep direct(direct_model, Options(true, true, true), OptimizerOptions{"sgd", 0.05, 0.5, 0}, 5);
  TrainingStep wrapped(runner_model, Options(true, true, true), OptimizerOptions{"sgd", 0.05, 0.5, 0}, 5);
  StepRunner runner(wrapped);
  EXPECT_FALSE(runner.graphs());
  for (int i = 0; i < 3; ++i) {
    const torch::Tensor x = torch::randn({i == 2 ? 5 : 16, 1, 28, 28});
    const torch::Tensor y = torch::randint(0, 10, {x.size(0)}, torch::kLong);
    EXPECT_EQ(direct.Step(x, y).loss.item<double>(), runner.Step(x, y).loss.item<double>());
  }
  const auto a = direct.model().parameters();
  const auto b = wrapped.model().parameters();
  for (size_t i = 0; i < a.size(); ++i) EXPECT_TRUE(torch::equal(a[i], b[i]));
}

}  // namespace
}  // namespace biofed
