#include "data/partition.h"

#include <algorithm>
#include <numeric>
#include <random>

#include "absl/strings/str_cat.h"

namespace biofed {
namespace {

Partition SplitEvenly(const std::vector<int64_t>& order, int64_t k) {
  Partition parts(static_cast<size_t>(k));
  const auto n = static_cast<int64_t>(order.size());
  for (int64_t c = 0; c < k; ++c) {
    const int64_t begin = n * c / k;
    const int64_t end = n * (c + 1) / k;
    parts[c].assign(order.begin() + begin, order.begin() + end);
  }
  return parts;
}

Partition Iid(int64_t n, const PartitionOptions& options) {
  std::vector<int64_t> order(static_cast<size_t>(n));
  std::iota(order.begin(), order.end(), 0);
  std::mt19937_64 rng(options.seed);
  std::shuffle(order.begin(), order.end(), rng);
  return SplitEvenly(order, options.num_clients);
}

// One draw of a Dirichlet(alpha) label-skew partition.
Partition DirichletOnce(const std::vector<std::vector<int64_t>>& by_class, double alpha,
                        int64_t k, std::mt19937_64& rng) {
  Partition parts(static_cast<size_t>(k));
  std::gamma_distribution<double> gamma(alpha, 1.0);
  for (std::vector<int64_t> members : by_class) {
    std::shuffle(members.begin(), members.end(), rng);
    std::vector<double> weights(static_cast<size_t>(k));
    double total = 0;
    for (double& w : weights) total += (w = gamma(rng));
    if (total <= 0) {  // every gamma draw underflowed: put the class in one client
      std::fill(weights.begin(), weights.end(), 0.0);
      weights[std::uniform_int_distribution<int64_t>(0, k - 1)(rng)] = total = 1.0;
    }
    const auto n = static_cast<double>(members.size());
    double cumulative = 0;
    size_t begin = 0;
    for (int64_t c = 0; c < k; ++c) {
      cumulative += weights[c] / total;
      const size_t end = c + 1 == k ? members.size()
                                    : std::min(members.size(), static_cast<size_t>(cumulative * n + 0.5));
      parts[c].insert(parts[c].end(), members.begin() + begin, members.begin() + std::max(begin, end));
      begin = std::max(begin, end);
    }
  }
  return parts;
}

absl::StatusOr<Partition> Dirichlet(const std::vector<int64_t>& labels, int64_t num_classes,
                                    const PartitionOptions& options) {
  if (!(options.dirichlet_alpha > 0)) {
    return absl::InvalidArgumentError(
        absl::StrCat("Dirichlet alpha must be > 0, got ", options.dirichlet_alpha));
  }
  std::vector<std::vector<int64_t>> by_class(static_cast<size_t>(num_classes));
  for (size_t i = 0; i < labels.size(); ++i) by_class[labels[i]].push_back(static_cast<int64_t>(i));
  std::mt19937_64 rng(options.seed);
  // Redraw (deterministically, from the same stream) until no client is empty.
  constexpr int kAttempts = 1000;
  for (int attempt = 0; attempt < kAttempts; ++attempt) {
    Partition parts = DirichletOnce(by_class, options.dirichlet_alpha, options.num_clients, rng);
    const bool all_nonempty =
        std::all_of(parts.begin(), parts.end(), [](const auto& p) { return !p.empty(); });
    if (all_nonempty) return parts;
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "Dirichlet(", options.dirichlet_alpha, ") left a client empty in ", kAttempts,
      " draws: use fewer clients or a larger alpha"));
}

absl::StatusOr<Partition> Shards(const std::vector<int64_t>& labels, const PartitionOptions& options) {
  const int64_t k = options.num_clients;
  const int64_t s = options.shards_per_client;
  const auto n = static_cast<int64_t>(labels.size());
  if (s < 1 || k * s > n) {
    return absl::InvalidArgumentError(absl::StrCat("shards: ", k, " clients x ", s,
                                                   " shards needs at least that many samples and s >= 1; have ",
                                                   n, " samples"));
  }
  std::mt19937_64 rng(options.seed);
  std::vector<int64_t> order(static_cast<size_t>(n));
  std::iota(order.begin(), order.end(), 0);
  std::shuffle(order.begin(), order.end(), rng);
  std::stable_sort(order.begin(), order.end(),
                   [&labels](int64_t a, int64_t b) { return labels[a] < labels[b]; });
  const Partition shards = SplitEvenly(order, k * s);
  std::vector<int64_t> shard_ids(static_cast<size_t>(k * s));
  std::iota(shard_ids.begin(), shard_ids.end(), 0);
  std::shuffle(shard_ids.begin(), shard_ids.end(), rng);
  Partition parts(static_cast<size_t>(k));
  for (int64_t i = 0; i < k * s; ++i) {
    const auto& shard = shards[shard_ids[i]];
    parts[i / s].insert(parts[i / s].end(), shard.begin(), shard.end());
  }
  return parts;
}

}  // namespace

absl::StatusOr<Partition> PartitionDataset(const std::vector<int64_t>& labels,
                                           int64_t num_classes,
                                           const PartitionOptions& options) {
  const auto n = static_cast<int64_t>(labels.size());
  if (options.num_clients < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("number of clients must be >= 1, got ", options.num_clients));
  }
  if (options.num_clients > n) {
    return absl::InvalidArgumentError(absl::StrCat("cannot split ", n, " samples among ",
                                                   options.num_clients, " clients"));
  }
  for (int64_t label : labels) {
    if (label < 0 || label >= num_classes) {
      return absl::InvalidArgumentError(
          absl::StrCat("label ", label, " outside [0, ", num_classes, ")"));
    }
  }
  if (options.scheme == "iid") return Iid(n, options);
  if (options.scheme == "dirichlet") return Dirichlet(labels, num_classes, options);
  if (options.scheme == "shards") return Shards(labels, options);
  return absl::InvalidArgumentError(absl::StrCat("unknown partition scheme '", options.scheme,
                                                 "'; expected iid, dirichlet or shards"));
}

}  // namespace biofed
