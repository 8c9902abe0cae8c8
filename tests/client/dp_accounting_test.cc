// The DP-SGD accountant against values published by others: TensorFlow
// Privacy's RDP accountant tests (rdp_accountant_test.py), which include the
// Abadi et al. (2016) MNIST setting (lot 600 of 60000, sigma 4, 100 epochs),
// and the closed form of the unsampled Gaussian mechanism.
#include "client/dp_accounting.h"

#include <gtest/gtest.h>

#include <cmath>
#include <numeric>

#include "tests/testing/status_matchers.h"

namespace biofed {
namespace {

using ::biofed::testing::IsOk;

std::vector<int> Orders(int from, int to) {
  std::vector<int> orders(to - from + 1);
  std::iota(orders.begin(), orders.end(), from);
  return orders;
}

// TensorFlow Privacy: compute_rdp(q=0.1, sigma=2, steps=10, order=5) = 0.07737
// (their assertion: 5 decimal places).
TEST(DpAccountingTest, RdpMatchesTensorFlowPrivacy) {
  auto rdp = SampledGaussianRdp({0.1, 2.0, 10}, {5});
  ASSERT_THAT(rdp, IsOk());
  EXPECT_NEAR((*rdp)[0], 0.07737, 5e-6);
}

// The Abadi et al. MNIST setting: q = 0.01, sigma = 4, 10000 steps, orders
// 2-32, delta = 1e-5: TensorFlow Privacy gives epsilon = 1.258575 at order
// 20 (6 decimals, so 1e-6 plus our rounding), well inside the 1% asked.
TEST(DpAccountingTest, AbadiMnistSettingMatchesThePublishedEpsilon) {
  const std::vector<int> orders = Orders(2, 32);
  auto rdp = SampledGaussianRdp({0.01, 4.0, 10000}, orders);
  ASSERT_THAT(rdp, IsOk());
  auto spent = EpsilonFromRdp(orders, *rdp, 1e-5);
  ASSERT_THAT(spent, IsOk());
  EXPECT_NEAR(spent->epsilon, 1.258575, 2e-6);
  EXPECT_EQ(spent->order, 20);
  // More orders can only lower the minimum.
  auto wide = DpSgdEpsilon({0.01, 4.0, 10000}, 1e-5);
  ASSERT_THAT(wide, IsOk());
  EXPECT_LE(wide->epsilon, spent->epsilon);
}

// q = 1 is the Gaussian mechanism: RDP a / (2 sigma^2) per step (Mironov
// 2017, proposition 7); q = 0 releases nothing.
TEST(DpAccountingTest, UnsampledAndEmptyMechanismsHaveTheirClosedForms) {
  auto full = SampledGaussianRdp({1.0, 2.0, 3}, {2, 10});
  ASSERT_THAT(full, IsOk());
  EXPECT_DOUBLE_EQ((*full)[0], 3 * 2 / 8.0);
  EXPECT_DOUBLE_EQ((*full)[1], 3 * 10 / 8.0);
  auto none = SampledGaussianRdp({0.0, 2.0, 3}, {2, 10});
  ASSERT_THAT(none, IsOk());
  EXPECT_EQ((*none)[0], 0.0);
  EXPECT_EQ((*none)[1], 0.0);
}

// Epsilon grows with the steps and shrinks with the noise.
TEST(DpAccountingTest, EpsilonGrowsWithStepsAndShrinksWithNoise) {
  auto a = DpSgdEpsilon({0.01, 1.1, 1000}, 1e-5);
  auto more_steps = DpSgdEpsilon({0.01, 1.1, 4000}, 1e-5);
  auto more_noise = DpSgdEpsilon({0.01, 2.0, 1000}, 1e-5);
  ASSERT_THAT(a, IsOk());
  ASSERT_THAT(more_steps, IsOk());
  ASSERT_THAT(more_noise, IsOk());
  EXPECT_GT(more_steps->epsilon, a->epsilon);
  EXPECT_LT(more_noise->epsilon, a->epsilon);
}

TEST(DpAccountingTest, RefusesParametersOutsideTheirRanges) {
  EXPECT_FALSE(SampledGaussianRdp({1.5, 1.0, 1}, {2}).ok());
  EXPECT_FALSE(SampledGaussianRdp({0.1, 0.0, 1}, {2}).ok());
  EXPECT_FALSE(SampledGaussianRdp({0.1, 1.0, -1}, {2}).ok());
  EXPECT_FALSE(SampledGaussianRdp({0.1, 1.0, 1}, {1}).ok());
  EXPECT_FALSE(EpsilonFromRdp({2}, {0.1}, 0.0).ok());
  EXPECT_FALSE(EpsilonFromRdp({2, 3}, {0.1}, 1e-5).ok());
}

}  // namespace
}  // namespace biofed
