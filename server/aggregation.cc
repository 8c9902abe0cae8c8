#include "server/aggregation.h"

#include <memory>

#include "absl/strings/str_cat.h"
#include "server/weighted_mean.h"

namespace biofed {

absl::Status CheckAggregable(const std::vector<const ClientUpdate*>& updates) {
  if (updates.empty()) return absl::InvalidArgumentError("no updates to aggregate");
  for (const ClientUpdate* u : updates) {
    if (u->num_examples <= 0) {
      return absl::InvalidArgumentError(absl::StrCat("update of '", u->client_id, "' has no examples"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<const HostTensor*>> UpdatePartsFor(const HostTensor& t,
                                                              const std::vector<const ClientUpdate*>& updates) {
  std::vector<const HostTensor*> parts;
  for (const ClientUpdate* u : updates) {
    const HostTensor* p = FindTensor(u->tensors, t.name);
    if (p == nullptr || p->dtype != t.dtype || p->shape != t.shape || p->bytes.size() != t.bytes.size()) {
      return absl::InvalidArgumentError(
          absl::StrCat("update of '", u->client_id, "' does not fit tensor '", t.name, "'"));
    }
    parts.push_back(p);
  }
  return parts;
}

absl::StatusOr<TensorTable> Aggregate(const TensorTable& model, const std::vector<const ClientUpdate*>& updates,
                                      double step) {
  if (absl::Status s = CheckAggregable(updates); !s.ok()) return s;
  // Not owned: `model` outlives the accumulator.
  WeightedMean mean(std::shared_ptr<const TensorTable>(std::shared_ptr<const TensorTable>(), &model));
  for (const ClientUpdate* u : updates) {
    // Not owned either: the caller's updates outlive the accumulator.
    if (absl::Status s = mean.Add(std::shared_ptr<const ClientUpdate>(std::shared_ptr<const ClientUpdate>(), u));
        !s.ok()) {
      return s;
    }
  }
  return mean.Apply(step);
}

}  // namespace biofed
