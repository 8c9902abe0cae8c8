#include "attack/metrics.h"

#include <cmath>

#include <gtest/gtest.h>
#include <torch/torch.h>

namespace biofed {
namespace {

TEST(MetricsTest, PsnrOfAKnownMse) {
  EXPECT_DOUBLE_EQ(PsnrFromMse(0.01), 20.0);
  EXPECT_NEAR(PsnrFromMse(1e-3), 30.0, 1e-12);
  EXPECT_TRUE(std::isinf(PsnrFromMse(0.0)));
  // Two 2x2 images differing by 0.1 in every pixel: MSE 0.01.
  const torch::Tensor a = torch::full({1, 1, 2, 2}, 0.3, torch::kDouble);
  const torch::Tensor b = torch::full({1, 1, 2, 2}, 0.4, torch::kDouble);
  EXPECT_NEAR(PerImageMse(a, b)[0].item<double>(), 0.01, 1e-12);
}

TEST(MetricsTest, SsimOfIdenticalImagesIsOne) {
  torch::manual_seed(0);
  const torch::Tensor a = torch::rand({3, 3, 32, 32});
  const torch::Tensor s = PerImageSsim(a, a);
  for (int i = 0; i < 3; ++i) EXPECT_NEAR(s[i].item<double>(), 1.0, 1e-12);
}

TEST(MetricsTest, SsimOfConstantImagesIsTheLuminanceTerm) {
  // Constant images 0.5 and 0.25: variances and covariance vanish, so
  // SSIM = (2 * 0.5 * 0.25 + C1) / (0.5^2 + 0.25^2 + C1), C1 = 0.01^2:
  // 0.2501 / 0.3126 = 0.800063979...
  const torch::Tensor a = torch::full({1, 1, 16, 16}, 0.5);
  const torch::Tensor b = torch::full({1, 1, 16, 16}, 0.25);
  EXPECT_NEAR(PerImageSsim(a, b)[0].item<double>(), 0.2501 / 0.3126, 1e-9);
}

TEST(MetricsTest, SsimOfAStructuredPairMatchesASumWrittenOut) {
  // One 11x11 window; the weighted statistics are summed here by hand from
  // the definition: w_ij = g_i g_j, g_i ~ exp(-(i - 5)^2 / (2 * 1.5^2)).
  double g[11], total = 0;
  for (int i = 0; i < 11; ++i) total += g[i] = std::exp(-(i - 5.0) * (i - 5.0) / (2 * 1.5 * 1.5));
  for (double& v : g) v /= total;
  torch::Tensor a = torch::empty({1, 1, 11, 11}, torch::kDouble);
  torch::Tensor b = torch::empty({1, 1, 11, 11}, torch::kDouble);
  double ma = 0, mb = 0, saa = 0, sbb = 0, sab = 0;
  for (int i = 0; i < 11; ++i) {
    for (int j = 0; j < 11; ++j) {
      const double x = 0.5 + 0.3 * std::sin(i + 2.0 * j);
      const double y = 0.4 + 0.2 * std::cos(0.5 * i - j);
      a[0][0][i][j] = x;
      b[0][0][i][j] = y;
      const double w = g[i] * g[j];
      ma += w * x, mb += w * y, saa += w * x * x, sbb += w * y * y, sab += w * x * y;
    }
  }
  const double va = saa - ma * ma, vb = sbb - mb * mb, cov = sab - ma * mb;
  const double c1 = 1e-4, c2 = 9e-4;
  const double expected = (2 * ma * mb + c1) * (2 * cov + c2) / ((ma * ma + mb * mb + c1) * (va + vb + c2));
  EXPECT_NEAR(PerImageSsim(a, b)[0].item<double>(), expected, 1e-9);
}

TEST(MetricsTest, RelativeErrorIsSquaredNormRatio) {
  // ||x_hat - x||^2 / ||x||^2 = (4 * 0.01) / (4 * 0.25) = 4%.
  const torch::Tensor x = torch::full({1, 1, 2, 2}, 0.5, torch::kDouble);
  const torch::Tensor x_hat = torch::full({1, 1, 2, 2}, 0.6, torch::kDouble);
  EXPECT_NEAR(PerImageRelativeError(x_hat, x)[0].item<double>(), 4.0, 1e-9);
}

TEST(MetricsTest, HungarianUndoesAKnownPermutation) {
  torch::manual_seed(1);
  const torch::Tensor truth = torch::rand({6, 1, 12, 12}, torch::kDouble);
  const std::vector<int64_t> permutation = {3, 0, 5, 1, 4, 2};
  const torch::Tensor shuffled = truth.index_select(0, torch::tensor(permutation, torch::kLong)) + 0.01;
  const BatchScore score = ScoreReconstruction(shuffled, truth, {}, {});
  for (size_t i = 0; i < permutation.size(); ++i) EXPECT_EQ(score.images[i].truth_index, permutation[i]);
  EXPECT_NEAR(score.mean_mse, 1e-4, 1e-9);
}

TEST(MetricsTest, SsimOfImagesSmallerThanTheWindowUsesASmallerWindow) {
  const torch::Tensor a = torch::full({1, 1, 4, 4}, 0.5, torch::kDouble);
  const torch::Tensor b = torch::full({1, 1, 4, 4}, 0.25, torch::kDouble);
  EXPECT_NEAR(PerImageSsim(a, b)[0].item<double>(), 0.2501 / 0.3126, 1e-9);
}

TEST(MetricsTest, HungarianFindsTheOptimumWhereGreedyFails) {
  // Greedy row-by-row picks (0,0)=1 then (1,1)=10: 11. The optimum is
  // (0,1)=2 + (1,0)=2 = 4.
  const auto assignment = HungarianAssignment({{1, 2}, {2, 10}});
  EXPECT_EQ(assignment, (std::vector<int64_t>{1, 0}));
}

TEST(MetricsTest, LabelAccuracyIsMultisetOverlap) {
  EXPECT_DOUBLE_EQ(LabelMultisetAccuracy({1, 2, 3, 3}, {3, 1, 3, 2}), 1.0);
  // One of four labels wrong: counts differ by 1 in two classes: 1 - 2/8.
  EXPECT_DOUBLE_EQ(LabelMultisetAccuracy({1, 2, 3, 4}, {1, 2, 3, 3}), 0.75);
  // An estimated batch of 2 against 3 true labels: one class unmatched, 1 - 1/5.
  EXPECT_DOUBLE_EQ(LabelMultisetAccuracy({1, 2}, {1, 2, 3}), 0.8);
}

// With an estimated batch size the counts differ: the pairs are an optimal
// matching of the smaller side, the rest is counted, not scored.
TEST(MetricsTest, FewerReconstructionsThanTruthsAreMatchedAndTheRestCounted) {
  torch::manual_seed(2);
  const torch::Tensor truth = torch::rand({3, 1, 12, 12}, torch::kDouble);
  const torch::Tensor rec = torch::stack({truth[2], truth[0]}) + 0.01;
  const BatchScore score = ScoreReconstruction(rec, truth, {}, {});
  ASSERT_EQ(score.images.size(), 2u);
  EXPECT_EQ(score.images[0].reconstruction_index, 0);
  EXPECT_EQ(score.images[0].truth_index, 2);
  EXPECT_EQ(score.images[1].truth_index, 0);
  EXPECT_EQ(score.unmatched_truths, 1);
  EXPECT_EQ(score.unmatched_reconstructions, 0);
  EXPECT_NEAR(score.mean_mse, 1e-4, 1e-9);
  // The grid puts each reconstruction under its truth, black under truth 1.
  const torch::Tensor ordered = ReconstructionsInTruthOrder(score, rec, truth);
  EXPECT_TRUE(torch::equal(ordered[2], rec[0]));
  EXPECT_TRUE(torch::equal(ordered[0], rec[1]));
  EXPECT_EQ(ordered[1].abs().sum().item<double>(), 0.0);
}

TEST(MetricsTest, MoreReconstructionsThanTruthsLeaveTheWorstUnmatched) {
  torch::manual_seed(3);
  const torch::Tensor truth = torch::rand({2, 1, 12, 12}, torch::kDouble);
  const torch::Tensor stray = torch::ones({1, 12, 12}, torch::kDouble);
  const torch::Tensor rec = torch::stack({stray, truth[1], truth[0]});
  const BatchScore score = ScoreReconstruction(rec, truth, {}, {});
  ASSERT_EQ(score.images.size(), 2u);
  EXPECT_EQ(score.images[0].reconstruction_index, 1);
  EXPECT_EQ(score.images[0].truth_index, 1);
  EXPECT_EQ(score.images[1].reconstruction_index, 2);
  EXPECT_EQ(score.images[1].truth_index, 0);
  EXPECT_EQ(score.unmatched_reconstructions, 1);
  EXPECT_EQ(score.unmatched_truths, 0);
  EXPECT_DOUBLE_EQ(score.mean_mse, 0.0);
}

}  // namespace
}  // namespace biofed
