#include "data/partition.h"

#include <algorithm>
#include <cmath>
#include <set>

#include <gtest/gtest.h>

#include "tests/testing/status_matchers.h"

namespace biofed {
namespace {

std::vector<int64_t> BalancedLabels(int64_t n, int64_t classes) {
  std::vector<int64_t> labels(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) labels[i] = i % classes;
  return labels;
}

void ExpectExactCover(const Partition& parts, int64_t n) {
  std::vector<int> seen(static_cast<size_t>(n), 0);
  for (const auto& part : parts)
    for (int64_t i : part) {
      ASSERT_GE(i, 0);
      ASSERT_LT(i, n);
      ++seen[i];
    }
  for (int64_t i = 0; i < n; ++i) ASSERT_EQ(seen[i], 1) << "sample " << i;
}

// Mean total-variation distance between each client's label distribution and
// the global (uniform) one: 0 for no skew, near 1 - 1/C for one class each.
double MeanLabelSkew(const Partition& parts, const std::vector<int64_t>& labels, int64_t classes) {
  double total = 0;
  for (const auto& part : parts) {
    std::vector<double> counts(static_cast<size_t>(classes), 0);
    for (int64_t i : part) counts[labels[i]] += 1;
    double tv = 0;
    for (double c : counts) tv += std::abs(c / part.size() - 1.0 / classes);
    total += tv / 2;
  }
  return total / parts.size();
}

class PartitionSchemeTest : public ::testing::TestWithParam<std::string> {};

TEST_P(PartitionSchemeTest, CoversEverySampleOnceAndIsReproducible) {
  const auto labels = BalancedLabels(1003, 10);
  PartitionOptions options;
  options.scheme = GetParam();
  options.num_clients = 7;
  options.seed = 42;
  auto a = PartitionDataset(labels, 10, options);
  ASSERT_THAT(a, biofed::testing::IsOk());
  ASSERT_EQ(a->size(), 7u);
  ExpectExactCover(*a, 1003);
  for (const auto& part : *a) EXPECT_FALSE(part.empty());
  auto b = PartitionDataset(labels, 10, options);
  EXPECT_EQ(*a, *b);
  options.seed = 43;
  auto c = PartitionDataset(labels, 10, options);
  EXPECT_NE(*a, *c);
}

INSTANTIATE_TEST_SUITE_P(Schemes, PartitionSchemeTest, ::testing::Values("iid", "dirichlet", "shards"));

TEST(PartitionTest, IidClientsDifferInSizeByAtMostOne) {
  PartitionOptions options;
  options.num_clients = 7;
  auto parts = PartitionDataset(BalancedLabels(100, 10), 10, options);
  ASSERT_THAT(parts, biofed::testing::IsOk());
  size_t lo = 1000, hi = 0;
  for (const auto& p : *parts) lo = std::min(lo, p.size()), hi = std::max(hi, p.size());
  EXPECT_LE(hi - lo, 1u);
}

TEST(PartitionTest, DirichletSkewGrowsAsAlphaFalls) {
  const auto labels = BalancedLabels(20000, 10);
  PartitionOptions options;
  options.scheme = "dirichlet";
  options.num_clients = 10;
  double previous = -1;
  for (double alpha : {100.0, 1.0, 0.1}) {
    options.dirichlet_alpha = alpha;
    auto parts = PartitionDataset(labels, 10, options);
    ASSERT_THAT(parts, biofed::testing::IsOk());
    const double skew = MeanLabelSkew(*parts, labels, 10);
    EXPECT_GT(skew, previous) << "alpha " << alpha;
    previous = skew;
  }
  // With alpha = 0.1 most clients hold few classes: far from uniform.
  EXPECT_GT(previous, 0.5);
}

TEST(PartitionTest, ShardsGiveFewClassesPerClient) {
  const auto labels = BalancedLabels(1000, 10);
  PartitionOptions options;
  options.scheme = "shards";
  options.num_clients = 10;
  options.shards_per_client = 2;
  auto parts = PartitionDataset(labels, 10, options);
  ASSERT_THAT(parts, biofed::testing::IsOk());
  for (const auto& part : *parts) {
    std::set<int64_t> classes;
    for (int64_t i : part) classes.insert(labels[i]);
    // Two shards of 50 sorted-by-label samples span at most 2 classes each.
    EXPECT_LE(classes.size(), 4u);
  }
}

TEST(PartitionTest, RejectsBadOptions) {
  const auto labels = BalancedLabels(10, 2);
  PartitionOptions options;
  options.num_clients = 11;
  EXPECT_THAT(PartitionDataset(labels, 2, options),
              biofed::testing::StatusIs(absl::StatusCode::kInvalidArgument, "cannot split 10 samples"));
  options.num_clients = 2;
  options.scheme = "dirichlet";
  options.dirichlet_alpha = 0;
  EXPECT_THAT(PartitionDataset(labels, 2, options),
              biofed::testing::StatusIs(absl::StatusCode::kInvalidArgument, "alpha"));
  options.scheme = "zipf";
  EXPECT_THAT(PartitionDataset(labels, 2, options),
              biofed::testing::StatusIs(absl::StatusCode::kInvalidArgument, "unknown partition scheme"));
}

}  // namespace
}  // namespace biofed
