#include "server/weighted_mean.h"

#include <algorithm>
#include <functional>
#include <system_error>
#include <thread>
#include <type_traits>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "absl/strings/str_cat.h"

namespace biofed {
namespace {

bool IsFloating(const HostTensor& t) { return t.dtype == DType::kFloat32 || t.dtype == DType::kFloat64; }

template <typename T>
const T* ValuesOf(const HostTensor& t) {
  return reinterpret_cast<const T*>(t.bytes.data());
}

// body(begin, end) over [0, n): on up to 4 threads when the pass moves
// enough memory (`bytes`) for a second core to add bandwidth. Every value
// is computed alone, so the split does not change a bit.
void ForRange(size_t n, size_t bytes, const std::function<void(size_t, size_t)>& body) {
  const size_t slices = bytes < (size_t{4} << 20) ? 1 : std::clamp<size_t>(std::thread::hardware_concurrency(), 1, 4);
  const size_t per_slice = (n + slices - 1) / slices;
  std::vector<std::thread> helpers;
  for (size_t s = 1; s < slices; ++s) {
    const size_t begin = std::min(n, s * per_slice), end = std::min(n, begin + per_slice);
    try {
      helpers.emplace_back(body, begin, end);
    } catch (const std::system_error&) {  // no thread to be had: that slice here
      body(begin, end);
    }
  }
  body(0, std::min(n, per_slice));
  for (std::thread& helper : helpers) helper.join();
}

// hi + lo += x, exactly while the sum fits in two doubles (TwoSum).
inline void AddExact(double& hi, double& lo, double x) {
  const double s = hi + x;
  const double b = s - hi;
  lo += (hi - (s - b)) + (x - b);
  hi = s;
}

template <typename T>
void StartSum(const HostTensor& a, double na, const HostTensor& b, double nb, std::vector<double>& hi,
              std::vector<double>& lo) {
  const T* x = ValuesOf<T>(a);
  const T* y = ValuesOf<T>(b);
  ForRange(hi.size(), hi.size() * (16 + 2 * sizeof(T)), [&](size_t begin, size_t end) {
    for (size_t i = begin; i < end; ++i) {
      hi[i] = na * static_cast<double>(x[i]);
      lo[i] = 0;
      AddExact(hi[i], lo[i], nb * static_cast<double>(y[i]));
    }
  });
}

template <typename T>
void AddToSum(const HostTensor& a, double na, std::vector<double>& hi, std::vector<double>& lo) {
  const T* x = ValuesOf<T>(a);
  ForRange(hi.size(), hi.size() * (32 + sizeof(T)), [&](size_t begin, size_t end) {
    for (size_t i = begin; i < end; ++i) AddExact(hi[i], lo[i], na * static_cast<double>(x[i]));
  });
}

// out = w - step * mean (parameters) or mean (buffers) in the tensor's
// type, where mean(i) is the i-th mean value in double, rounded once to
// that type (so one update u gives w - step * u as a single update always
// has); written a cache-sized block at a time around the cache (the new
// tensor is written once and not read again here).
template <typename T, typename Mean>
void WriteNext(const HostTensor& model, double step, const Mean& mean, HostTensor& out) {
  const bool parameter = model.role == TensorRole::kParameter;
  const T c = static_cast<T>(step);
  const T* w = ValuesOf<T>(model);
  const size_t n = model.bytes.size() / sizeof(T);
  ForRange(n, n * 3 * sizeof(T), [&](size_t begin, size_t end) {
    constexpr size_t kBlock = (16 << 10) / sizeof(T);
    T block[kBlock];
    for (size_t start = begin; start < end; start += kBlock) {
      const size_t m = std::min(kBlock, end - start);
      for (size_t i = 0; i < m; ++i) {
        const T v = static_cast<T>(mean(start + i));
        block[i] = parameter ? w[start + i] - c * v : v;
      }
      CopyBypassingCache(out.bytes.data() + start * sizeof(T), reinterpret_cast<const char*>(block), m * sizeof(T));
    }
  });
}

#if defined(__SSE2__)
// [begin, end) of WriteSingleFloatUpdate, with its pointers in registers.
void WriteSingleFloatRange(bool parameter, const float* w, const float* x, float c, float* o, size_t begin,
                           size_t end) {
  auto one = [=](size_t i) { o[i] = parameter ? w[i] - c * x[i] : x[i]; };
  size_t i = begin;
  for (; i < end && reinterpret_cast<uintptr_t>(o + i) % 16 != 0; ++i) one(i);
  const __m128 cv = _mm_set1_ps(c);
  if (parameter) {
    for (; i + 4 <= end; i += 4) {
      _mm_stream_ps(o + i, _mm_sub_ps(_mm_loadu_ps(w + i), _mm_mul_ps(cv, _mm_loadu_ps(x + i))));
    }
  } else {
    for (; i + 4 <= end; i += 4) _mm_stream_ps(o + i, _mm_loadu_ps(x + i));
  }
  for (; i < end; ++i) one(i);
  _mm_sfence();
}
#endif

// w - c * u (parameters) or u (buffers) for a single float update, four
// floats at a time, each result stored around the cache as it is computed:
// the same operations, so the same bits, as WriteNext. Returns false, doing
// nothing, where it does not apply.
bool WriteSingleFloatUpdate(const HostTensor& model, const HostTensor& update, float c, HostTensor& out) {
#if defined(__SSE2__)
  const bool parameter = model.role == TensorRole::kParameter;
  const float* w = ValuesOf<float>(model);
  const float* x = ValuesOf<float>(update);
  float* o = reinterpret_cast<float*>(out.bytes.data());
  const size_t n = model.bytes.size() / sizeof(float);
  ForRange(n, n * 3 * sizeof(float),
           [&](size_t begin, size_t end) { WriteSingleFloatRange(parameter, w, x, c, o, begin, end); });
  return true;
#else
  (void)model, (void)update, (void)c, (void)out;
  return false;
#endif
}

// The next value of one model tensor: from the only update `single` (its
// mean is the update itself: n u / n is exact), or from the sums hi + lo
// of `total` examples.
template <typename T>
void WriteTensor(const HostTensor& model, const HostTensor* single, const std::vector<double>* hi,
                 const std::vector<double>* lo, double total, double step, HostTensor& out) {
  if constexpr (std::is_same_v<T, float>) {
    if (single != nullptr && WriteSingleFloatUpdate(model, *single, static_cast<float>(step), out)) return;
  }
  if (single != nullptr) {
    const T* u = ValuesOf<T>(*single);
    WriteNext<T>(
        model, step, [u](size_t i) { return static_cast<double>(u[i]); }, out);
  } else {
    const double* h = hi->data();
    const double* l = lo->data();
    WriteNext<T>(
        model, step, [h, l, total](size_t i) { return (h[i] + l[i]) / total; }, out);
  }
}

}  // namespace

WeightedMean::WeightedMean(std::shared_ptr<const TensorTable> model) : model_(std::move(model)) {}

absl::StatusOr<std::vector<const HostTensor*>> WeightedMean::PartsOf(const ClientUpdate& update) const {
  std::vector<const HostTensor*> parts(model_->size(), nullptr);
  const std::vector<const ClientUpdate*> one = {&update};
  for (size_t t = 0; t < model_->size(); ++t) {
    if (!IsFloating((*model_)[t])) continue;
    auto part = UpdatePartsFor((*model_)[t], one);
    if (!part.ok()) return part.status();
    parts[t] = part->front();
  }
  return parts;
}

absl::Status WeightedMean::Add(std::shared_ptr<const ClientUpdate> update) {
  if (absl::Status s = CheckAggregable({update.get()}); !s.ok()) return s;
  auto parts = PartsOf(*update);
  if (!parts.ok()) return parts.status();
  const double n = static_cast<double>(update->num_examples);
  if (count_ == 1) {
    auto first_parts = PartsOf(*first_);
    if (!first_parts.ok()) return first_parts.status();
    sums_.resize(model_->size());
    for (size_t t = 0; t < model_->size(); ++t) {
      if ((*parts)[t] == nullptr) continue;
      const HostTensor& m = (*model_)[t];
      const size_t values = m.bytes.size() / DTypeSize(m.dtype);
      sums_[t].hi.resize(values);
      sums_[t].lo.resize(values);
      const double n0 = static_cast<double>(first_examples_);
      if (m.dtype == DType::kFloat32) {
        StartSum<float>(*(*first_parts)[t], n0, *(*parts)[t], n, sums_[t].hi, sums_[t].lo);
      } else {
        StartSum<double>(*(*first_parts)[t], n0, *(*parts)[t], n, sums_[t].hi, sums_[t].lo);
      }
    }
    first_.reset();
  } else if (count_ > 1) {
    for (size_t t = 0; t < model_->size(); ++t) {
      if ((*parts)[t] == nullptr) continue;
      if ((*model_)[t].dtype == DType::kFloat32) {
        AddToSum<float>(*(*parts)[t], n, sums_[t].hi, sums_[t].lo);
      } else {
        AddToSum<double>(*(*parts)[t], n, sums_[t].hi, sums_[t].lo);
      }
    }
  } else {
    first_ = std::move(update);
    first_examples_ = first_->num_examples;
  }
  ++count_;
  examples_ += n;  // exact below 2^53 examples
  return absl::OkStatus();
}

size_t WeightedMean::held_bytes() const {
  size_t bytes = 0;
  if (first_) {
    for (const HostTensor& t : first_->tensors) bytes += t.bytes.size();
  }
  for (const Sum& s : sums_) bytes += (s.hi.size() + s.lo.size()) * sizeof(double);
  return bytes;
}

absl::StatusOr<TensorTable> WeightedMean::Apply(double step) const {
  if (count_ == 0) return absl::InvalidArgumentError("no updates to aggregate");
  std::vector<const HostTensor*> first_parts;
  if (first_) {
    auto parts = PartsOf(*first_);
    if (!parts.ok()) return parts.status();
    first_parts = std::move(*parts);
  }
  const double total = examples_;
  TensorTable next(model_->size());
  for (size_t t = 0; t < model_->size(); ++t) {
    const HostTensor& m = (*model_)[t];
    if (!IsFloating(m)) {
      next[t] = m;  // e.g. BatchNorm's batch counter
      continue;
    }
    HostTensor& out = next[t];
    out.name = m.name;
    out.dtype = m.dtype;
    out.shape = m.shape;
    out.role = m.role;
    out.bytes.ResizeUninitialized(m.bytes.size());  // every value is written below
    const HostTensor* single = first_ ? first_parts[t] : nullptr;
    const std::vector<double>* hi = first_ ? nullptr : &sums_[t].hi;
    const std::vector<double>* lo = first_ ? nullptr : &sums_[t].lo;
    if (m.dtype == DType::kFloat32) {
      WriteTensor<float>(m, single, hi, lo, total, step, out);
    } else {
      WriteTensor<double>(m, single, hi, lo, total, step, out);
    }
  }
  return next;
}

}  // namespace biofed
