// The example-weighted mean of the clients' updates, accumulated as they
// arrive, so that a round holds one sum the size of the model however many
// clients it has (server/aggregation.h defines the mean; this is how it is
// computed, by both transports).
//
// Each update adds n_k * u_k to a double-double sum per value (Knuth's
// TwoSum: the rounding error of each addition is kept in a second double).
// For float32 updates the product is exact (24 significant bits times an
// example count below 2^24, the server's default cap being 10^7), so the
// sum is exact unless the terms of one value span more than ~106 bits, and
// the mean, rounded once from it, does not depend on the order in which the
// updates arrived. The first update is only held (one update,
// whatever the round's size); the sums are allocated when a second comes.
//
// Not thread-safe: one caller at a time (the federation core serialises).
#ifndef BIOFED_SERVER_WEIGHTED_MEAN_H_
#define BIOFED_SERVER_WEIGHTED_MEAN_H_

#include <cstdint>
#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "server/aggregation.h"
#include "wire/host_tensor.h"

namespace biofed {

class WeightedMean {
 public:
  // The mean of updates to `model` (kept alive by the caller's pointer).
  explicit WeightedMean(std::shared_ptr<const TensorTable> model);

  // Adds an update: INVALID_ARGUMENT, adding nothing, when it has no
  // examples or does not fit the model (as UpdatePartsFor).
  absl::Status Add(std::shared_ptr<const ClientUpdate> update);

  int64_t count() const { return count_; }
  double examples() const { return examples_; }
  // Bytes held: the first update's tensors or the sums.
  size_t held_bytes() const;

  // The next model (the formula of Aggregate): parameters w - step * mean,
  // float buffers the mean, other tensors kept; INVALID_ARGUMENT with no
  // updates.
  absl::StatusOr<TensorTable> Apply(double step) const;

 private:
  struct Sum {
    std::vector<double> hi, lo;  // the exact sum is hi + lo, value by value
  };
  // The update's tensor for each floating tensor of the model (null for the
  // others), or the error of UpdatePartsFor.
  absl::StatusOr<std::vector<const HostTensor*>> PartsOf(const ClientUpdate& update) const;

  std::shared_ptr<const TensorTable> model_;
  std::shared_ptr<const ClientUpdate> first_;  // held while it is the only one
  int64_t first_examples_ = 0;
  std::vector<Sum> sums_;  // by model tensor; empty before the second update
  int64_t count_ = 0;
  double examples_ = 0;  // the weights' sum N
};

}  // namespace biofed

#endif  // BIOFED_SERVER_WEIGHTED_MEAN_H_
