#include "server/aggregation.h"

#include "absl/strings/str_cat.h"

namespace biofed {
namespace {

// In place, one pass per update and no scratch buffer: for parameters
// w -= (step * n_k / N) g_k; for buffers w = sum_k (n_k / N) b_k.
template <typename T>
void AggregateTensor(HostTensor& out, const std::vector<const HostTensor*>& parts, const std::vector<double>& weights,
                     double step) {
  const size_t n = out.bytes.size() / sizeof(T);
  T* w = reinterpret_cast<T*>(out.bytes.data());
  const bool parameter = out.role == TensorRole::kParameter;
  for (size_t k = 0; k < parts.size(); ++k) {
    const T* x = reinterpret_cast<const T*>(parts[k]->bytes.data());
    const T c = static_cast<T>(parameter ? step * weights[k] : weights[k]);
    if (parameter) {
      for (size_t i = 0; i < n; ++i) w[i] -= c * x[i];
    } else if (k == 0) {
      for (size_t i = 0; i < n; ++i) w[i] = c * x[i];
    } else {
      for (size_t i = 0; i < n; ++i) w[i] += c * x[i];
    }
  }
}

}  // namespace

absl::StatusOr<TensorTable> Aggregate(const TensorTable& model, const std::vector<const ClientUpdate*>& updates,
                                      double step) {
  if (updates.empty()) return absl::InvalidArgumentError("no updates to aggregate");
  double total = 0;
  for (const ClientUpdate* u : updates) {
    if (u->num_examples <= 0) {
      return absl::InvalidArgumentError(absl::StrCat("update of '", u->client_id, "' has no examples"));
    }
    total += static_cast<double>(u->num_examples);
  }
  std::vector<double> weights;
  for (const ClientUpdate* u : updates) weights.push_back(static_cast<double>(u->num_examples) / total);

  TensorTable next = model;
  for (HostTensor& t : next) {
    if (t.dtype != DType::kFloat32 && t.dtype != DType::kFloat64) continue;
    std::vector<const HostTensor*> parts;
    for (const ClientUpdate* u : updates) {
      const HostTensor* p = FindTensor(u->tensors, t.name);
      if (p == nullptr || p->dtype != t.dtype || p->shape != t.shape || p->bytes.size() != t.bytes.size()) {
        return absl::InvalidArgumentError(
            absl::StrCat("update of '", u->client_id, "' does not fit tensor '", t.name, "'"));
      }
      parts.push_back(p);
    }
    if (t.dtype == DType::kFloat32) {
      AggregateTensor<float>(t, parts, weights, step);
    } else {
      AggregateTensor<double>(t, parts, weights, step);
    }
  }
  return next;
}

}  // namespace biofed
