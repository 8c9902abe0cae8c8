#include "server/update_norm.h"

#include <cmath>

#include "absl/strings/str_cat.h"

namespace biofed {
namespace {

template <typename T>
double SumOfSquares(const HostTensor& t) {
  const T* values = reinterpret_cast<const T*>(t.bytes.data());
  const size_t n = t.bytes.size() / sizeof(T);
  double sum = 0;
  for (size_t i = 0; i < n; ++i) sum += static_cast<double>(values[i]) * static_cast<double>(values[i]);
  return sum;
}

template <typename T>
void Scale(HostTensor& t, double factor) {
  T* values = reinterpret_cast<T*>(t.bytes.data());
  const size_t n = t.bytes.size() / sizeof(T);
  for (size_t i = 0; i < n; ++i) values[i] = static_cast<T>(static_cast<double>(values[i]) * factor);
}

bool InScope(const HostTensor& t, NormScope scope) {
  return scope == NormScope::kAllValues || t.role == TensorRole::kParameter;
}

}  // namespace

absl::StatusOr<UpdateNormPolicy> ParseUpdateNormPolicy(const std::string& name) {
  if (name == "reject") return UpdateNormPolicy::kReject;
  if (name == "clip") return UpdateNormPolicy::kClip;
  return absl::InvalidArgumentError(absl::StrCat("unknown update norm policy '", name, "' (reject, clip)"));
}

double UpdateNorm(const TensorTable& update, NormScope scope) {
  double sum = 0;
  for (const HostTensor& t : update) {
    if (!InScope(t, scope)) continue;
    if (t.dtype == DType::kFloat32) sum += SumOfSquares<float>(t);
    if (t.dtype == DType::kFloat64) sum += SumOfSquares<double>(t);
  }
  return std::sqrt(sum);
}

void ScaleUpdate(TensorTable& update, double factor, NormScope scope) {
  for (HostTensor& t : update) {
    if (!InScope(t, scope)) continue;
    if (t.dtype == DType::kFloat32) Scale<float>(t, factor);
    if (t.dtype == DType::kFloat64) Scale<double>(t, factor);
  }
}

absl::StatusOr<BoundedNorm> BoundUpdateNorm(TensorTable& update, double max_norm, UpdateNormPolicy policy) {
  BoundedNorm bounded;
  if (max_norm <= 0) {
    double sum = 0;
    for (const HostTensor& t : update) {
      if (t.dtype == DType::kFloat64) sum += SumOfSquares<double>(t);
    }
    bounded.norm = std::sqrt(sum);
  } else {
    bounded.norm = UpdateNorm(update);
  }
  if (!std::isfinite(bounded.norm)) {
    return absl::InvalidArgumentError("the update's L2 norm overflows a double");
  }
  if (max_norm <= 0 || bounded.norm <= max_norm) return bounded;
  if (policy == UpdateNormPolicy::kReject) {
    return absl::InvalidArgumentError(
        absl::StrCat("the update's L2 norm ", bounded.norm, " exceeds the limit of ", max_norm));
  }
  ScaleUpdate(update, max_norm / bounded.norm);
  bounded.clipped = true;
  return bounded;
}

}  // namespace biofed
