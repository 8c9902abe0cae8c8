#include "server/aggregation.h"

#include <algorithm>
#include <system_error>
#include <thread>
#include <type_traits>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "absl/strings/str_cat.h"

namespace biofed {
namespace {

// One pass per update and no scratch tensor: the first update's pass reads
// the old model and writes the new one (for parameters w' = w - (step *
// n_0 / N) g_0; for buffers b' = (n_0 / N) b_0), each later one updates the
// new model in place. The first pass computes a cache-sized block at a time
// and streams it out with non-temporal stores, so the new tensor is written
// once, without a zero-fill and without its cache lines being read first.
// Every element is computed alone, so splitting the range among threads
// gives the same bits.
constexpr size_t kBlockBytes = 16 << 10;

struct TensorJob {
  const HostTensor* old;
  HostTensor* out;
  std::vector<const HostTensor*> parts;
  std::vector<double> coefficients;
};

// The first pass over floats, four at a time, each result stored around
// the cache as it is computed (the same operations, so the same bits, as
// the block loop below). Returns false, doing nothing, where it does not
// apply.
template <typename T>
bool FirstPassVectorised(const TensorJob& job, size_t begin, size_t end, bool parameter) {
#if defined(__SSE2__)
  if constexpr (std::is_same_v<T, float>) {
    const float* w = reinterpret_cast<const float*>(job.old->bytes.data());
    const float* x = reinterpret_cast<const float*>(job.parts[0]->bytes.data());
    float* out = reinterpret_cast<float*>(job.out->bytes.data());
    const float c = static_cast<float>(job.coefficients[0]);
    auto one = [&](size_t i) { out[i] = parameter ? w[i] - c * x[i] : c * x[i]; };
    size_t i = begin;
    for (; i < end && reinterpret_cast<uintptr_t>(out + i) % 16 != 0; ++i) one(i);
    const __m128 cv = _mm_set1_ps(c);
    for (; i + 16 <= end; i += 16) {
      for (size_t k = 0; k < 16; k += 4) {
        const __m128 scaled = _mm_mul_ps(cv, _mm_loadu_ps(x + i + k));
        _mm_stream_ps(out + i + k, parameter ? _mm_sub_ps(_mm_loadu_ps(w + i + k), scaled) : scaled);
      }
    }
    for (; i < end; ++i) one(i);
    _mm_sfence();
    return true;
  }
#endif
  (void)job, (void)begin, (void)end, (void)parameter;
  return false;
}

template <typename T>
void AggregateRange(const TensorJob& job, size_t begin, size_t end) {
  const bool parameter = job.out->role == TensorRole::kParameter;
  if (!FirstPassVectorised<T>(job, begin, end, parameter)) {
    const T* w = reinterpret_cast<const T*>(job.old->bytes.data());
    const T* x = reinterpret_cast<const T*>(job.parts[0]->bytes.data());
    const T c = static_cast<T>(job.coefficients[0]);
    constexpr size_t kBlock = kBlockBytes / sizeof(T);
    T block[kBlock];
    for (size_t start = begin; start < end; start += kBlock) {
      const size_t m = std::min(kBlock, end - start);
      if (parameter) {
        for (size_t i = 0; i < m; ++i) block[i] = w[start + i] - c * x[start + i];
      } else {
        for (size_t i = 0; i < m; ++i) block[i] = c * x[start + i];
      }
      CopyBypassingCache(job.out->bytes.data() + start * sizeof(T), reinterpret_cast<const char*>(block),
                         m * sizeof(T));
    }
  }
  T* w = reinterpret_cast<T*>(job.out->bytes.data());
  for (size_t k = 1; k < job.parts.size(); ++k) {
    const T* x = reinterpret_cast<const T*>(job.parts[k]->bytes.data());
    const T c = static_cast<T>(job.coefficients[k]);
    if (parameter) {
      for (size_t i = begin; i < end; ++i) w[i] -= c * x[i];
    } else {
      for (size_t i = begin; i < end; ++i) w[i] += c * x[i];
    }
  }
}

// Slice `slice` of `slices` of every job, in whole blocks.
void AggregateSlice(const std::vector<TensorJob>& jobs, size_t slice, size_t slices) {
  for (const TensorJob& job : jobs) {
    const size_t value_bytes = DTypeSize(job.old->dtype);
    const size_t n = job.old->bytes.size() / value_bytes;
    const size_t block = kBlockBytes / value_bytes;
    const size_t blocks_per_slice = ((n + block - 1) / block + slices - 1) / slices;
    const size_t begin = std::min(n, slice * blocks_per_slice * block);
    const size_t end = std::min(n, begin + blocks_per_slice * block);
    if (begin >= end) continue;
    if (job.old->dtype == DType::kFloat32) {
      AggregateRange<float>(job, begin, end);
    } else {
      AggregateRange<double>(job, begin, end);
    }
  }
}

// Aggregation streams through memory; on a model of a few million values
// and more, a second and third core add bandwidth.
size_t SliceCount(const std::vector<TensorJob>& jobs) {
  size_t bytes = 0;
  for (const TensorJob& job : jobs) bytes += job.old->bytes.size() * (1 + job.parts.size());
  if (bytes < (size_t{32} << 20)) return 1;
  return std::clamp<size_t>(std::thread::hardware_concurrency(), 1, 4);
}

}  // namespace

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
  double total = 0;
  for (const ClientUpdate* u : updates) total += static_cast<double>(u->num_examples);
  std::vector<double> weights;
  for (const ClientUpdate* u : updates) weights.push_back(static_cast<double>(u->num_examples) / total);

  TensorTable next(model.size());
  std::vector<TensorJob> jobs;
  for (size_t i = 0; i < model.size(); ++i) {
    const HostTensor& t = model[i];
    if (t.dtype != DType::kFloat32 && t.dtype != DType::kFloat64) {
      next[i] = t;
      continue;
    }
    auto parts = UpdatePartsFor(t, updates);
    if (!parts.ok()) return parts.status();
    TensorJob job{&t, &next[i], std::move(*parts), {}};
    const bool parameter = t.role == TensorRole::kParameter;
    for (size_t k = 0; k < updates.size(); ++k) job.coefficients.push_back(parameter ? step * weights[k] : weights[k]);
    HostTensor& out = next[i];
    out.name = t.name;
    out.dtype = t.dtype;
    out.shape = t.shape;
    out.role = t.role;
    out.bytes.ResizeUninitialized(t.bytes.size());  // every value is written below
    jobs.push_back(std::move(job));
  }
  const size_t slices = SliceCount(jobs);
  std::vector<std::thread> helpers;
  for (size_t s = 1; s < slices; ++s) {
    try {
      helpers.emplace_back([&jobs, s, slices] { AggregateSlice(jobs, s, slices); });
    } catch (const std::system_error&) {  // no thread to be had: do that slice here
      AggregateSlice(jobs, s, slices);
    }
  }
  AggregateSlice(jobs, 0, slices);
  for (std::thread& helper : helpers) helper.join();
  return next;
}

}  // namespace biofed
