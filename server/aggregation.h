// Federated aggregation on host tensors: the example-weighted mean of the
// clients' pseudo-gradients, applied with a server learning rate, for a
// round's updates held together (WeightedMean accumulates it as updates
// arrive). Pure functions; thread-safe.
#ifndef BIOFED_SERVER_AGGREGATION_H_
#define BIOFED_SERVER_AGGREGATION_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "wire/host_tensor.h"

namespace biofed {

struct ClientUpdate {
  std::string client_id;
  int64_t num_examples = 0;
  TensorTable tensors;  // follows UpdateSchema(model)
};

// The next global model. With n_k examples and pseudo-gradient g_k from
// client k, and N = sum n_k:
//   parameter w  ->  w - step * sum_k (n_k / N) g_k,   step = server_lr * lr
//   float buffer ->  sum_k (n_k / N) b_k   (e.g. BatchNorm running statistics)
//   other tensors (BatchNorm's batch counter) are kept.
// With step = lr (server_lr 1) this is FedAvg's weighted mean of the
// clients' local models, and FedSGD's gradient step. The sum is exact
// (server/weighted_mean.h) and the mean rounded once, so the result does
// not depend on the order of `updates`. INVALID_ARGUMENT when
// there are no updates, a weight is not positive, or an update does not fit
// the model.
absl::StatusOr<TensorTable> Aggregate(const TensorTable& model, const std::vector<const ClientUpdate*>& updates,
                                      double step);

// What every aggregation rule checks first: INVALID_ARGUMENT when there are
// no updates or one has no examples.
absl::Status CheckAggregable(const std::vector<const ClientUpdate*>& updates);

// Each update's tensor for model tensor `t`, in the order of `updates`;
// INVALID_ARGUMENT naming the first update that does not fit it (missing,
// other dtype or shape).
absl::StatusOr<std::vector<const HostTensor*>> UpdatePartsFor(const HostTensor& t,
                                                              const std::vector<const ClientUpdate*>& updates);

}  // namespace biofed

#endif  // BIOFED_SERVER_AGGREGATION_H_
