#include "server/robust_aggregation.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "server/update_norm.h"

namespace biofed {
namespace {

template <typename T>
const T* Values(const HostTensor& t) {
  return reinterpret_cast<const T*>(t.bytes.data());
}

// The combined value of `column` (one coordinate's K values, reordered in
// place): the median, or the mean of what trimming leaves.
double Combine(std::vector<double>& column, const Aggregator& a) {
  const size_t k = column.size();
  if (a.kind == Aggregator::Kind::kTrimmedMean) {
    const size_t cut = static_cast<size_t>(std::floor(a.trim_fraction * static_cast<double>(k)));
    std::sort(column.begin(), column.end());
    double sum = 0;
    for (size_t i = cut; i < k - cut; ++i) sum += column[i];
    return sum / static_cast<double>(k - 2 * cut);
  }
  const size_t mid = k / 2;
  std::nth_element(column.begin(), column.begin() + mid, column.end());
  if (k % 2 == 1) return column[mid];
  const double upper = column[mid];
  const double lower = *std::max_element(column.begin(), column.begin() + mid);
  return 0.5 * (lower + upper);
}

// Coordinate-wise median or trimmed mean of one tensor into `out`.
template <typename T>
void CombineCoordinates(const HostTensor& old, const std::vector<const HostTensor*>& parts, const Aggregator& a,
                        double step, HostTensor& out) {
  const size_t n = old.bytes.size() / sizeof(T);
  const bool parameter = old.role == TensorRole::kParameter;
  T* result = reinterpret_cast<T*>(out.bytes.data());
  std::vector<double> column(parts.size());
  for (size_t i = 0; i < n; ++i) {
    for (size_t k = 0; k < parts.size(); ++k) column[k] = static_cast<double>(Values<T>(*parts[k])[i]);
    const double combined = Combine(column, a);
    result[i] = parameter ? static_cast<T>(static_cast<double>(Values<T>(old)[i]) - step * combined)
                          : static_cast<T>(combined);
  }
}

absl::StatusOr<TensorTable> CoordinateWise(const Aggregator& a, const TensorTable& model,
                                           const std::vector<const ClientUpdate*>& updates, double step,
                                           bool buffers_only) {
  TensorTable next = model;
  for (size_t i = 0; i < model.size(); ++i) {
    const HostTensor& t = model[i];
    if (t.dtype != DType::kFloat32 && t.dtype != DType::kFloat64) continue;
    if (buffers_only && t.role == TensorRole::kParameter) continue;
    auto parts = UpdatePartsFor(t, updates);
    if (!parts.ok()) return parts.status();
    if (t.dtype == DType::kFloat32) {
      CombineCoordinates<float>(t, *parts, a, step, next[i]);
    } else {
      CombineCoordinates<double>(t, *parts, a, step, next[i]);
    }
  }
  return next;
}

// A copy of `update` whose parameters' pseudo-gradient has L2 norm at most
// `bound` (an overflowing norm carries nothing usable: zeroed).
ClientUpdate ClippedCopy(const ClientUpdate& update, double bound) {
  ClientUpdate clipped = update;
  const double norm = UpdateNorm(clipped.tensors, NormScope::kParameters);
  if (norm > bound) ScaleUpdate(clipped.tensors, std::isfinite(norm) ? bound / norm : 0.0, NormScope::kParameters);
  return clipped;
}

absl::StatusOr<TensorTable> NormClipped(const Aggregator& a, const TensorTable& model,
                                        const std::vector<const ClientUpdate*>& updates, double step) {
  std::vector<ClientUpdate> clipped;
  clipped.reserve(updates.size());
  for (const ClientUpdate* u : updates) clipped.push_back(ClippedCopy(*u, a.clip_norm));
  std::vector<const ClientUpdate*> pointers;
  for (const ClientUpdate& u : clipped) pointers.push_back(&u);
  auto mean = Aggregate(model, pointers, step);
  if (!mean.ok()) return mean.status();
  Aggregator median;
  median.kind = Aggregator::Kind::kMedian;
  return CoordinateWise(median, *mean, pointers, step, /*buffers_only=*/true);
}

}  // namespace

absl::StatusOr<Aggregator> ParseAggregator(const std::string& text) {
  Aggregator a;
  const size_t colon = text.find(':');
  const std::string kind = text.substr(0, colon);
  const std::string value = colon == std::string::npos ? "" : text.substr(colon + 1);
  const std::string usage = "(mean, median, trimmed-mean:F with 0 <= F < 0.5, or norm-clip:C with C > 0)";
  if ((kind == "mean" || kind == "median") && colon == std::string::npos) {
    a.kind = kind == "mean" ? Aggregator::Kind::kMean : Aggregator::Kind::kMedian;
    return a;
  }
  double number = 0;
  if (kind == "trimmed-mean" && absl::SimpleAtod(value, &number) && number >= 0 && number < 0.5) {
    a.kind = Aggregator::Kind::kTrimmedMean;
    a.trim_fraction = number;
    return a;
  }
  if (kind == "norm-clip" && absl::SimpleAtod(value, &number) && number > 0 && std::isfinite(number)) {
    a.kind = Aggregator::Kind::kNormClip;
    a.clip_norm = number;
    return a;
  }
  return absl::InvalidArgumentError(absl::StrCat("aggregator '", text, "' is not one of ", usage));
}

std::string AggregatorName(Aggregator a) {
  switch (a.kind) {
    case Aggregator::Kind::kMean:
      return "mean";
    case Aggregator::Kind::kMedian:
      return "median";
    case Aggregator::Kind::kTrimmedMean:
      return absl::StrFormat("trimmed-mean:%g", a.trim_fraction);
    case Aggregator::Kind::kNormClip:
      return absl::StrFormat("norm-clip:%g", a.clip_norm);
  }
  return "mean";
}

absl::StatusOr<TensorTable> AggregateWith(const Aggregator& a, const TensorTable& model,
                                          const std::vector<const ClientUpdate*>& updates, double step) {
  if (absl::Status s = CheckAggregable(updates); !s.ok()) return s;
  switch (a.kind) {
    case Aggregator::Kind::kMean:
      return Aggregate(model, updates, step);
    case Aggregator::Kind::kNormClip:
      return NormClipped(a, model, updates, step);
    default:
      return CoordinateWise(a, model, updates, step, /*buffers_only=*/false);
  }
}

}  // namespace biofed
