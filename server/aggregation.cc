#include "server/aggregation.h"

#include <algorithm>
#include <system_error>
#include <thread>

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

template <typename T>
void AggregateRange(const TensorJob& job, size_t begin, size_t end) {
  const bool parameter = job.out->role == TensorRole::kParameter;
  {
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

  TensorTable next(model.size());
  std::vector<TensorJob> jobs;
  for (size_t i = 0; i < model.size(); ++i) {
    const HostTensor& t = model[i];
    if (t.dtype != DType::kFloat32 && t.dtype != DType::kFloat64) {
      next[i] = t;
      continue;
    }
    TensorJob job{&t, &next[i], {}, {}};
    const bool parameter = t.role == TensorRole::kParameter;
    for (size_t k = 0; k < updates.size(); ++k) {
      const ClientUpdate* u = updates[k];
      const HostTensor* p = FindTensor(u->tensors, t.name);
      if (p == nullptr || p->dtype != t.dtype || p->shape != t.shape || p->bytes.size() != t.bytes.size()) {
        return absl::InvalidArgumentError(
            absl::StrCat("update of '", u->client_id, "' does not fit tensor '", t.name, "'"));
      }
      job.parts.push_back(p);
      job.coefficients.push_back(parameter ? step * weights[k] : weights[k]);
    }
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
