// The update defenses: clipping, Gaussian noise and top-k, checked against
// values computed here from their definitions.
#include "sweep/defense.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "tests/testing/status_matchers.h"

namespace biofed {
namespace {

using testing::IsOk;
using testing::StatusIs;

HostTensor FloatTensor(const std::string& name, const std::vector<float>& values, TensorRole role) {
  HostTensor t;
  t.name = name;
  t.shape = {static_cast<int64_t>(values.size())};
  t.role = role;
  t.bytes.assign(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(float));
  return t;
}

std::vector<float> Values(const HostTensor& t) {
  std::vector<float> out(t.bytes.size() / sizeof(float));
  std::memcpy(out.data(), t.bytes.data(), t.bytes.size());
  return out;
}

TEST(DefenseTest, ParsesTheDocumentedFormsAndRefusesTheRest) {
  auto noise = ParseDefense("noise:2:0.5");
  ASSERT_THAT(noise, IsOk());
  EXPECT_EQ(noise->kind, Defense::Kind::kClippedNoise);
  EXPECT_EQ(noise->clip, 2.0);
  EXPECT_EQ(noise->sigma, 0.5);
  EXPECT_EQ(DefenseName(*noise), "noise:2:0.5");
  auto topk = ParseDefense("topk:0.10");
  ASSERT_THAT(topk, IsOk());
  EXPECT_EQ(DefenseName(*topk), "topk:0.1");
  EXPECT_EQ(ParseDefense("none")->kind, Defense::Kind::kNone);
  auto dp = ParseDefense("dp:1.0:1.1");
  ASSERT_THAT(dp, IsOk());
  EXPECT_EQ(dp->kind, Defense::Kind::kDpSgd);
  EXPECT_EQ(DefenseName(*dp), "dp:1:1.1");
  for (const char* bad : {"", "noise", "noise:0:1", "noise:1:-1", "noise:1", "noise:x:1", "topk:0", "topk:1.5", "topk",
                          "dp:1", "dp:1:0", "dp:0:1", "dp:1:x", "none:1", "noise:inf:1"}) {
    EXPECT_THAT(ParseDefense(bad), StatusIs(absl::StatusCode::kInvalidArgument, "defense")) << bad;
  }
}

// DP-SGD acts in the client's training loop: it hands the loop its settings
// and leaves the update as trained; the other defenses leave the loop alone.
TEST(DefenseTest, DpSgdConfiguresTheTrainingLoopAndLeavesTheUpdate) {
  const DpSgdOptions dp = ClientDpSgd(*ParseDefense("dp:0.5:2"));
  EXPECT_TRUE(dp.enabled());
  EXPECT_EQ(dp.clip, 0.5);
  EXPECT_EQ(dp.noise_multiplier, 2.0);
  EXPECT_FALSE(ClientDpSgd(*ParseDefense("noise:0.5:2")).enabled());
  EXPECT_FALSE(ClientDpSgd(*ParseDefense("none")).enabled());
  TensorTable update = {FloatTensor("a", {3, 4}, TensorRole::kParameter)};
  ASSERT_THAT(ApplyDefense(*ParseDefense("dp:0.5:2"), 7, update), IsOk());
  EXPECT_EQ(Values(update[0]), (std::vector<float>{3, 4}));
  // Its budget comes from the accountant; no guarantee without it.
  auto epsilon = DefenseEpsilon(*ParseDefense("dp:1:4"), 0.01, 10000);
  ASSERT_THAT(epsilon, IsOk());
  EXPECT_GT(*epsilon, 0);
  EXPECT_LE(*epsilon, 1.258575 + 1e-6);  // TF Privacy's value at orders 2-32; we search more orders
  EXPECT_TRUE(std::isinf(*DefenseEpsilon(*ParseDefense("noise:1:4"), 0.01, 10000)));
}

TEST(DefenseTest, ClippingScalesTheJointNormOfTheParametersToC) {
  // Parameters (3, 4) and (12): joint norm 13; the buffer is not counted.
  TensorTable update = {FloatTensor("a", {3, 4}, TensorRole::kParameter),
                        FloatTensor("b", {12}, TensorRole::kParameter),
                        FloatTensor("stats", {100}, TensorRole::kBuffer)};
  ASSERT_THAT(ApplyDefense(*ParseDefense("noise:1.3:0"), 7, update), IsOk());
  // Scale 1.3 / 13 = 0.1.
  const std::vector<float> a = Values(update[0]), b = Values(update[1]);
  EXPECT_NEAR(a[0], 0.3f, 1e-6);
  EXPECT_NEAR(a[1], 0.4f, 1e-6);
  EXPECT_NEAR(b[0], 1.2f, 1e-6);
  EXPECT_EQ(Values(update[2])[0], 100.0f);
  // Below the bound nothing changes.
  TensorTable small = {FloatTensor("a", {0.3f, 0.4f}, TensorRole::kParameter)};
  ASSERT_THAT(ApplyDefense(*ParseDefense("noise:1:0"), 7, small), IsOk());
  EXPECT_EQ(Values(small[0]), (std::vector<float>{0.3f, 0.4f}));
}

TEST(DefenseTest, NoiseHasStandardDeviationSigmaTimesCAndIsSeeded) {
  const size_t n = 200000;
  TensorTable update = {FloatTensor("w", std::vector<float>(n, 0.0f), TensorRole::kParameter)};
  TensorTable again = update;
  ASSERT_THAT(ApplyDefense(*ParseDefense("noise:2:0.25"), 11, update), IsOk());
  ASSERT_THAT(ApplyDefense(*ParseDefense("noise:2:0.25"), 11, again), IsOk());
  EXPECT_EQ(update[0].bytes, again[0].bytes);
  const std::vector<float> v = Values(update[0]);
  double sum = 0, squares = 0;
  for (float x : v) sum += x, squares += static_cast<double>(x) * x;
  const double mean = sum / n, sd = std::sqrt(squares / n - mean * mean);
  // Expected sd 0.5. The sample sd's relative standard error is 1/sqrt(2n)
  // (0.16%), the mean's standard error 0.5/sqrt(n) (0.0011): 5 of each.
  EXPECT_NEAR(sd, 0.5, 0.5 * 5 / std::sqrt(2.0 * n));
  EXPECT_NEAR(mean, 0.0, 5 * 0.5 / std::sqrt(static_cast<double>(n)));
  TensorTable other = {FloatTensor("w", std::vector<float>(n, 0.0f), TensorRole::kParameter)};
  ASSERT_THAT(ApplyDefense(*ParseDefense("noise:2:0.25"), 12, other), IsOk());
  EXPECT_NE(update[0].bytes, other[0].bytes);
}

TEST(DefenseTest, TopKKeepsExactlyTheLargestMagnitudesPerTensor) {
  std::mt19937 engine(3);
  std::normal_distribution<float> normal;
  std::vector<float> values(1000);
  for (float& x : values) x = normal(engine);
  TensorTable update = {FloatTensor("w", values, TensorRole::kParameter),
                        FloatTensor("small", {1, -5, 2}, TensorRole::kParameter),
                        FloatTensor("stats", {1, 2, 3}, TensorRole::kBuffer)};
  ASSERT_THAT(ApplyDefense(*ParseDefense("topk:0.05"), 0, update), IsOk());
  // The 50 largest |x|, found by sorting a copy.
  std::vector<float> magnitudes(values.size());
  std::transform(values.begin(), values.end(), magnitudes.begin(), [](float x) { return std::fabs(x); });
  std::sort(magnitudes.begin(), magnitudes.end(), std::greater<float>());
  const float threshold = magnitudes[49];
  const std::vector<float> kept = Values(update[0]);
  int nonzero = 0;
  for (size_t i = 0; i < values.size(); ++i) {
    if (std::fabs(values[i]) >= threshold) {
      EXPECT_EQ(kept[i], values[i]) << i;
    } else {
      EXPECT_EQ(kept[i], 0.0f) << i;
    }
    nonzero += kept[i] != 0.0f;
  }
  EXPECT_EQ(nonzero, 50);
  // ceil(0.05 * 3) = 1 entry of the small tensor; the buffer is untouched.
  EXPECT_EQ(Values(update[1]), (std::vector<float>{0, -5, 0}));
  EXPECT_EQ(Values(update[2]), (std::vector<float>{1, 2, 3}));
}

TEST(DefenseTest, TopKBreaksTiesByPositionAndKeepsTheCount) {
  TensorTable update = {FloatTensor("w", {1, -1, 1, 1, 0.5f}, TensorRole::kParameter)};
  ASSERT_THAT(ApplyDefense(*ParseDefense("topk:0.4"), 0, update), IsOk());
  EXPECT_EQ(Values(update[0]), (std::vector<float>{1, -1, 0, 0, 0}));
}

TEST(DefenseTest, RefusesNonFloatParameters) {
  TensorTable update = {FloatTensor("w", {1, 2}, TensorRole::kParameter)};
  update[0].dtype = DType::kInt32;
  EXPECT_THAT(ApplyDefense(*ParseDefense("topk:0.5"), 0, update), StatusIs(absl::StatusCode::kInvalidArgument, "int32"));
}

}  // namespace
}  // namespace biofed
