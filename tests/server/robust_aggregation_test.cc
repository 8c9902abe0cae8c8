// The robust aggregators: parsing, each rule on values worked out by hand,
// and a Byzantine client sending a huge finite update (FLT_MAX), which owns
// the example-weighted mean but not the median, the trimmed mean or the
// norm-clipped mean.
#include "server/robust_aggregation.h"

#include <gtest/gtest.h>

#include <cfloat>
#include <cmath>
#include <string>
#include <vector>

#include "tests/testing/float_values.h"
#include "tests/testing/status_matchers.h"

namespace biofed {
namespace {

using testing::FloatValues;
using testing::IsOk;
using testing::StatusIs;

// One client's update: pseudo-gradient `g` for parameter "w", value `b` for
// buffer "b".
ClientUpdate Update(const std::string& id, int64_t examples, const std::vector<float>& g, const std::vector<float>& b) {
  ClientUpdate u;
  u.client_id = id;
  u.num_examples = examples;
  u.tensors = {FloatValues("w", g, TensorRole::kParameter), FloatValues("b", b, TensorRole::kBuffer)};
  return u;
}

std::vector<const ClientUpdate*> Pointers(const std::vector<ClientUpdate>& updates) {
  std::vector<const ClientUpdate*> p;
  for (const ClientUpdate& u : updates) p.push_back(&u);
  return p;
}

TEST(AggregatorTest, ParsesEachRuleAndRefusesOthers) {
  for (const char* name : {"mean", "median", "trimmed-mean:0.2", "norm-clip:5"}) {
    auto a = ParseAggregator(name);
    ASSERT_THAT(a, IsOk()) << name;
    EXPECT_EQ(AggregatorName(*a), name);
  }
  for (const char* bad : {"", "avg", "median:1", "trimmed-mean", "trimmed-mean:0.5", "trimmed-mean:-0.1", "norm-clip:0",
                          "norm-clip:x", "norm-clip:inf", "mean:"}) {
    EXPECT_THAT(ParseAggregator(bad), StatusIs(absl::StatusCode::kInvalidArgument, "is not one of")) << bad;
  }
}

// Five clients, one coordinate each of w (parameter, old value 10) and b
// (buffer), step 0.5. w's pseudo-gradients 1, 2, 3, 4, 1000: median 3 ->
// 10 - 1.5; trimmed-mean:0.2 drops one from each end: mean(2, 3, 4) = 3 ->
// 8.5 too; buffers 5, 6, 7, 8, -1e6: median 6, trimmed mean (5 + 6 + 7) / 3 = 6.
TEST(AggregatorTest, MedianAndTrimmedMeanPerCoordinate) {
  const TensorTable model = {FloatValues("w", {10.f}, TensorRole::kParameter),
                             FloatValues("b", {0.f}, TensorRole::kBuffer)};
  std::vector<ClientUpdate> updates = {Update("c0", 1, {1}, {5}), Update("c1", 1, {2}, {6}), Update("c2", 1, {3}, {7}),
                                       Update("c3", 1, {4}, {8}), Update("c4", 1000, {1000}, {-1e6})};
  for (const char* rule : {"median", "trimmed-mean:0.2"}) {
    auto next = AggregateWith(*ParseAggregator(rule), model, Pointers(updates), 0.5);
    ASSERT_THAT(next, IsOk());
    EXPECT_FLOAT_EQ((*next)[0].floats()[0], 8.5f) << rule;
    EXPECT_FLOAT_EQ((*next)[1].floats()[0], 6.f) << rule;
  }
  // An even count: the median is the mean of the two middle values, (2 + 3) / 2.
  updates.pop_back();
  auto even = AggregateWith(*ParseAggregator("median"), model, Pointers(updates), 0.5);
  ASSERT_THAT(even, IsOk());
  EXPECT_FLOAT_EQ((*even)[0].floats()[0], 10.f - 0.5f * 2.5f);
  EXPECT_FLOAT_EQ((*even)[1].floats()[0], 6.5f);
}

// norm-clip:C scales each pseudo-gradient to norm at most C, then takes the
// example-weighted mean. c0 sends (3, 4) (norm 5, clipped to 1: (0.6, 0.8)),
// c1 sends (0.3, 0.4) (norm 0.5, kept); equal examples: mean (0.45, 0.6);
// step 1 from (0, 0).
TEST(AggregatorTest, NormClipScalesLargeUpdatesBeforeTheMean) {
  const TensorTable model = {FloatValues("w", {0.f, 0.f}, TensorRole::kParameter),
                             FloatValues("b", {1.f}, TensorRole::kBuffer)};
  const std::vector<ClientUpdate> updates = {Update("c0", 10, {3, 4}, {2}), Update("c1", 10, {0.3f, 0.4f}, {4})};
  auto next = AggregateWith(*ParseAggregator("norm-clip:1"), model, Pointers(updates), 1.0);
  ASSERT_THAT(next, IsOk());
  EXPECT_FLOAT_EQ((*next)[0].floats()[0], -0.45f);
  EXPECT_FLOAT_EQ((*next)[0].floats()[1], -0.6f);
  EXPECT_FLOAT_EQ((*next)[1].floats()[0], 3.f);  // buffers: the median of 2 and 4
}

// Four honest clients send pseudo-gradients near 1 on 100 coordinates; a
// Byzantine one sends FLT_MAX everywhere (finite) and claims the most
// examples. The mean moves the weights by ~1e37; each robust rule keeps the
// step within what the honest values allow: the median and the trimmed mean
// lie within the honest range [0.9, 1.1]; norm-clip at the honest norm
// (sqrt(100) * 1.1 = 11) lets the Byzantine update add at most its clipped
// share, 11 * 1000 / 1040 per unit step in norm.
TEST(AggregatorTest, AByzantineClientOwnsTheMeanButNoRobustRule) {
  const size_t n = 100;
  const TensorTable model = {FloatValues("w", std::vector<float>(n, 0.f), TensorRole::kParameter),
                             FloatValues("b", {1.f}, TensorRole::kBuffer)};
  std::vector<ClientUpdate> updates;
  for (int k = 0; k < 4; ++k) {
    std::vector<float> g(n);
    for (size_t i = 0; i < n; ++i) g[i] = 0.9f + 0.2f * static_cast<float>((i * 7 + k * 13) % 10) / 9.f;
    updates.push_back(Update("honest" + std::to_string(k), 10, g, {1.f}));
  }
  updates.push_back(Update("byzantine", 1000, std::vector<float>(n, FLT_MAX), {FLT_MAX}));
  const double step = 0.1;
  auto mean = AggregateWith(*ParseAggregator("mean"), model, Pointers(updates), step);
  ASSERT_THAT(mean, IsOk());
  EXPECT_LT((*mean)[0].floats()[0], -1e36f);  // the attack works on the mean
  for (const char* rule : {"median", "trimmed-mean:0.2"}) {
    auto next = AggregateWith(*ParseAggregator(rule), model, Pointers(updates), step);
    ASSERT_THAT(next, IsOk());
    for (size_t i = 0; i < n; ++i) {
      EXPECT_GE((*next)[0].floats()[i], -step * 1.1 - 1e-6) << rule << " " << i;
      EXPECT_LE((*next)[0].floats()[i], -step * 0.9 + 1e-6) << rule << " " << i;
    }
    EXPECT_FLOAT_EQ((*next)[1].floats()[0], 1.f) << rule;
  }
  auto clipped = AggregateWith(*ParseAggregator("norm-clip:11"), model, Pointers(updates), step);
  ASSERT_THAT(clipped, IsOk());
  double squared = 0;
  for (size_t i = 0; i < n; ++i) squared += std::pow((*clipped)[0].floats()[i], 2);
  // |mean| <= (40 * 11 + 1000 * 11) / 1040 = 11: the step moves w by at most step * 11.
  EXPECT_LE(std::sqrt(squared), step * 11 * (1 + 1e-5));
  EXPECT_FLOAT_EQ((*clipped)[1].floats()[0], 1.f);
}

TEST(AggregatorTest, RefusesWhatTheMeanRefuses) {
  const TensorTable model = {FloatValues("w", {0.f}, TensorRole::kParameter)};
  ClientUpdate wrong = Update("c0", 1, {1, 2}, {0});
  for (const char* rule : {"median", "trimmed-mean:0.1", "norm-clip:1"}) {
    EXPECT_THAT(AggregateWith(*ParseAggregator(rule), model, {}, 1.0),
                StatusIs(absl::StatusCode::kInvalidArgument, "no updates"));
    EXPECT_THAT(AggregateWith(*ParseAggregator(rule), model, {&wrong}, 1.0),
                StatusIs(absl::StatusCode::kInvalidArgument, "does not fit tensor 'w'"));
  }
}

}  // namespace
}  // namespace biofed
