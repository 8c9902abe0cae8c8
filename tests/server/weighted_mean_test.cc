// The weighted mean as updates arrive (server/weighted_mean.h): its value
// on numbers worked out by hand, its independence of the order of arrival,
// its agreement with a sum in extended precision, the memory it holds, and
// a federation round that holds the sum, not the updates, under the mean
// and every update under a robust rule.
#include "server/weighted_mean.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "server/federation_core.h"
#include "tests/testing/float_values.h"
#include "tests/testing/status_matchers.h"

namespace biofed {
namespace {

using testing::FloatValues;
using testing::IsOk;
using testing::StatusIs;

std::shared_ptr<const ClientUpdate> Update(const std::string& id, int64_t examples, const std::vector<float>& g,
                                           const std::vector<float>& b) {
  auto u = std::make_shared<ClientUpdate>();
  u->client_id = id;
  u->num_examples = examples;
  u->tensors = {FloatValues("w", g, TensorRole::kParameter), FloatValues("b", b, TensorRole::kBuffer)};
  return u;
}

std::shared_ptr<const TensorTable> Model(const std::vector<float>& w, const std::vector<float>& b) {
  return std::make_shared<const TensorTable>(
      TensorTable{FloatValues("w", w, TensorRole::kParameter), FloatValues("b", b, TensorRole::kBuffer)});
}

// w = 1, step 0.5; pseudo-gradients 2 (1 example) and 4 (3 examples): mean
// (2 + 12) / 4 = 3.5, w' = 1 - 1.75 = -0.75. Buffers 8 and 0: mean 2.
// Every number is exact in float, so the result is too.
TEST(WeightedMeanTest, TheExampleWeightedMeanOnNumbersWorkedOutByHand) {
  WeightedMean mean(Model({1.f}, {5.f}));
  ASSERT_THAT(mean.Add(Update("a", 1, {2.f}, {8.f})), IsOk());
  ASSERT_THAT(mean.Add(Update("b", 3, {4.f}, {0.f})), IsOk());
  auto next = mean.Apply(0.5);
  ASSERT_THAT(next, IsOk());
  EXPECT_EQ((*next)[0].floats()[0], -0.75f);
  EXPECT_EQ((*next)[1].floats()[0], 2.f);
  EXPECT_EQ(mean.count(), 2);
  EXPECT_EQ(mean.examples(), 4);
}

// One update: its mean is the update itself, so w' = w - step * u rounded
// once from double, and the buffer is the update's.
TEST(WeightedMeanTest, OneUpdateIsItsOwnMean) {
  WeightedMean mean(Model({0.1f, -3.f}, {0.f, 0.f}));
  ASSERT_THAT(mean.Add(Update("a", 7, {0.3f, 1e-8f}, {0.25f, -9.f})), IsOk());
  auto next = mean.Apply(0.01);
  ASSERT_THAT(next, IsOk());
  EXPECT_EQ((*next)[0].floats()[0], static_cast<float>(double{0.1f} - 0.01 * double{0.3f}));
  EXPECT_EQ((*next)[0].floats()[1], static_cast<float>(double{-3.f} - 0.01 * double{1e-8f}));
  EXPECT_EQ((*next)[1].floats()[0], 0.25f);
  EXPECT_EQ((*next)[1].floats()[1], -9.f);
}

TEST(WeightedMeanTest, RefusesWhatItCannotAverage) {
  WeightedMean mean(Model({1.f, 2.f}, {0.f, 0.f}));
  EXPECT_THAT(mean.Apply(1.0), StatusIs(absl::StatusCode::kInvalidArgument, "no updates"));
  EXPECT_THAT(mean.Add(Update("none", 0, {1.f, 1.f}, {0.f, 0.f})),
              StatusIs(absl::StatusCode::kInvalidArgument, "has no examples"));
  EXPECT_THAT(mean.Add(Update("short", 1, {1.f}, {0.f, 0.f})),
              StatusIs(absl::StatusCode::kInvalidArgument, "does not fit tensor 'w'"));
  EXPECT_EQ(mean.count(), 0);
}

// One float ulp at `x`.
float Ulp(float x) { return std::nextafter(std::fabs(x), INFINITY) - std::fabs(x); }

// 60 updates of 2000 values each, values spread over six orders of
// magnitude with both signs (sums that cancel) and example counts 1-5000.
// Every order of arrival gives the same bits: the double-double sum of the
// exact products n_k u_k is exact here (the terms span well under 106
// bits). Against an independent sum in long double (64-bit significand:
// relative error at most 60 * 2^-64 of the sum of magnitudes) the mean is
// within one float ulp (the two means round to neighbouring floats at
// worst); a parameter, w - c * mean in float with c = float(step), within
// what that one ulp of the mean becomes: c ulp(mean), plus one rounding of
// the product and one of the difference.
TEST(WeightedMeanTest, TheOrderOfArrivalDoesNotChangeABit) {
  constexpr int kUpdates = 60, kValues = 2000;
  constexpr double kStep = 0.05;
  std::mt19937 rng(11);
  std::uniform_real_distribution<float> exponent(-3.f, 3.f), unit(0.f, 1.f);
  auto spread = [&] { return (unit(rng) < 0.5f ? -1.f : 1.f) * std::pow(10.f, exponent(rng)); };
  std::vector<float> w(kValues);
  for (float& x : w) x = unit(rng) - 0.5f;
  std::vector<std::shared_ptr<const ClientUpdate>> updates;
  for (int k = 0; k < kUpdates; ++k) {
    std::vector<float> g(kValues), b(kValues);
    for (int i = 0; i < kValues; ++i) g[i] = spread(), b[i] = spread();
    updates.push_back(Update("c" + std::to_string(k), 1 + static_cast<int64_t>(rng() % 5000), g, b));
  }
  const auto model = Model(w, std::vector<float>(kValues, 0.f));

  TensorTable first;
  for (int order = 0; order < 6; ++order) {
    std::shuffle(updates.begin(), updates.end(), rng);
    WeightedMean mean(model);
    for (const auto& u : updates) ASSERT_THAT(mean.Add(u), IsOk());
    auto next = mean.Apply(kStep);
    ASSERT_THAT(next, IsOk());
    if (order == 0) {
      first = std::move(*next);
      continue;
    }
    for (size_t t = 0; t < 2; ++t) {
      for (int i = 0; i < kValues; ++i) {
        ASSERT_EQ((*next)[t].floats()[i], first[t].floats()[i]) << "order " << order << ", value " << i;
      }
    }
  }
  const float c = static_cast<float>(kStep);
  for (int i = 0; i < kValues; ++i) {
    long double g_sum = 0, b_sum = 0, examples = 0;
    for (const auto& u : updates) {
      g_sum += static_cast<long double>(u->num_examples) * u->tensors[0].floats()[i];
      b_sum += static_cast<long double>(u->num_examples) * u->tensors[1].floats()[i];
      examples += u->num_examples;
    }
    const float b_mean = static_cast<float>(b_sum / examples), g_mean = static_cast<float>(g_sum / examples);
    EXPECT_LE(std::fabs(first[1].floats()[i] - b_mean), Ulp(b_mean)) << "buffer value " << i;
    const float w_next = w[i] - c * g_mean;
    EXPECT_LE(std::fabs(first[0].floats()[i] - w_next), c * Ulp(g_mean) + Ulp(c * g_mean) + Ulp(w_next))
        << "parameter value " << i;
  }
}

// Two clients send +1e7 and -1e7 (exact in float) beside 30 small values:
// the mean is the small values' mean, which a sum in plain double would
// round at 1e7's precision (2^-29) and differently for each order in which
// the big values arrive. The exact sum gives, in every order, the small
// values' mean rounded once (summed independently in long double, where
// they lose nothing: 30 values of 14-24 significant bits in 64).
TEST(WeightedMeanTest, CancellingUpdatesInAnyOrderLeaveTheExactMean) {
  constexpr int kSmall = 30, kValues = 64;
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> small(1e-3f, 1e-2f);
  std::vector<std::shared_ptr<const ClientUpdate>> updates = {
      Update("big+", 1, {1.f}, std::vector<float>(kValues, 1e7f)),
      Update("big-", 1, {1.f}, std::vector<float>(kValues, -1e7f))};
  std::vector<long double> sums(kValues, 0);
  for (int k = 0; k < kSmall; ++k) {
    std::vector<float> b(kValues);
    for (int i = 0; i < kValues; ++i) {
      b[i] = (rng() % 2 ? 1.f : -1.f) * small(rng);
      sums[i] += b[i];
    }
    updates.push_back(Update("c" + std::to_string(k), 1, {1.f}, b));
  }
  const auto model = std::make_shared<const TensorTable>(
      TensorTable{FloatValues("w", {0.f}, TensorRole::kParameter),
                  FloatValues("b", std::vector<float>(kValues, 0.f), TensorRole::kBuffer)});
  for (int order = 0; order < 20; ++order) {
    std::shuffle(updates.begin(), updates.end(), rng);
    WeightedMean mean(model);
    for (const auto& u : updates) ASSERT_THAT(mean.Add(u), IsOk());
    auto next = mean.Apply(1.0);
    ASSERT_THAT(next, IsOk());
    for (int i = 0; i < kValues; ++i) {
      ASSERT_EQ((*next)[1].floats()[i], static_cast<float>(sums[i] / (kSmall + 2))) << "order " << order << ", " << i;
    }
  }
}

// The first update is held as it is; from the second on, the sum: two
// doubles per value, the same after 2 updates as after 100.
TEST(WeightedMeanTest, HoldsOneSumHoweverManyUpdates) {
  constexpr int kValues = 1000;
  WeightedMean mean(Model(std::vector<float>(kValues, 0.f), std::vector<float>(kValues, 0.f)));
  const std::vector<float> ones(kValues, 1.f);
  ASSERT_THAT(mean.Add(Update("c0", 1, ones, ones)), IsOk());
  EXPECT_EQ(mean.held_bytes(), 2 * kValues * sizeof(float));
  ASSERT_THAT(mean.Add(Update("c1", 1, ones, ones)), IsOk());
  const size_t sums = 2 * kValues * 2 * sizeof(double);
  EXPECT_EQ(mean.held_bytes(), sums);
  for (int k = 2; k < 100; ++k) ASSERT_THAT(mean.Add(Update("c" + std::to_string(k), 1, ones, ones)), IsOk());
  EXPECT_EQ(mean.held_bytes(), sums);
}

// A federation round of 12 sampled clients, 11 of which have sent an
// update of `kValues` floats: under the mean the round holds the running
// sum, under the median every update.
size_t BytesHeldAfterElevenUpdates(const std::string& aggregator, int64_t values) {
  FederationConfig config;
  config.run_id = "memory";
  config.model_spec_json = "{}";
  config.rounds = 1;
  config.min_clients = 12;
  config.poll_interval = absl::Milliseconds(1);
  config.aggregator = *ParseAggregator(aggregator);
  auto core = FederationCore::Create(
      config, {FloatValues("w", std::vector<float>(values, 0.f), TensorRole::kParameter)}, nullptr);
  EXPECT_THAT(core, IsOk());
  if (!core.ok()) return 0;
  for (int k = 0; k < 12; ++k) (*core)->Join("c" + std::to_string(k));
  (*core)->Start();
  absl::StatusOr<v1::Task> task;
  do {
    task = (*core)->PullTask("c0");
  } while (task.ok() && !task->has_train());
  EXPECT_THAT(task, IsOk());
  for (int k = 0; k < 11; ++k) {
    v1::UpdateHeader header;
    header.set_client_id("c" + std::to_string(k));
    header.set_round(1);
    header.set_model_version(0);
    header.set_num_examples(1 + k);
    header.set_lr(config.lr);
    header.set_shared_kind(v1::SHARED_PSEUDO_GRADIENT);
    EXPECT_THAT((*core)->AcceptUpdate(header.client_id(), header,
                                      {FloatValues("w", std::vector<float>(values, 0.5f), TensorRole::kParameter)},
                                      std::nullopt),
                IsOk());
  }
  const size_t held = (*core)->round_bytes_held();
  (*core)->Stop();
  return held;
}

TEST(WeightedMeanTest, AFederationRoundHoldsTheSumNotTheUpdates) {
  constexpr int64_t kValues = 10000;
  EXPECT_EQ(BytesHeldAfterElevenUpdates("mean", kValues), kValues * 2 * sizeof(double));
  EXPECT_EQ(BytesHeldAfterElevenUpdates("median", kValues), 11 * kValues * sizeof(float));
}

}  // namespace
}  // namespace biofed
