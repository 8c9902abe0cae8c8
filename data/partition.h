// Partitioners that split a training set among K clients. Each returns K
// disjoint index lists that together cover every sample exactly once, and is
// reproducible for a given seed. Stateless and thread-safe.
#ifndef BIOFED_DATA_PARTITION_H_
#define BIOFED_DATA_PARTITION_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace biofed {

using Partition = std::vector<std::vector<int64_t>>;

struct PartitionOptions {
  std::string scheme = "iid";  // "iid", "dirichlet" or "shards"
  int64_t num_clients = 1;
  double dirichlet_alpha = 0.5;  // smaller = more label skew
  int64_t shards_per_client = 2;
  uint64_t seed = 0;
};

// Splits samples with the given labels (values in [0, num_classes)).
// Returns INVALID_ARGUMENT for bad options (K < 1, more clients than samples,
// alpha <= 0, an unknown scheme).
absl::StatusOr<Partition> PartitionDataset(const std::vector<int64_t>& labels,
                                           int64_t num_classes,
                                           const PartitionOptions& options);

}  // namespace biofed

#endif  // BIOFED_DATA_PARTITION_H_
