#include "client/weight_rejuvenation.h"

#include <atomic>
#include <cmath>
#include <limits>

#include <ATen/Parallel.h>
#include <torch/torch.h>

#include "client/cuda_rejuvenation.h"
#include "client/rejuvenation_law.h"
#include "client/seeds.h"

namespace biofed {
namespace {

namespace law = rejuvenation_law;

// A weight at y = w / sigma is reset when its uniform u satisfies
// u < P(y), P(y) = erfc(|y| / sqrt 2) (reference) or erfc(|y| / sqrt 2) / 2
// (paper). P falls as z = |y| grows, so this is z < T(u) with T the inverse
// of P (T = 0 where u >= P(0), i.e. u >= 1/2 for the paper's law). T is tabulated at u = k / kBins; for
// u in bin k, T(u) lies in (T[k + 1], T[k]], which settles almost every
// weight with two comparisons. The few z inside that interval are decided
// with the law itself (rejuvenation_law.h), so the decisions are exact.
constexpr int kBinBits = 12;
constexpr int kBins = 1 << kBinBits;
constexpr double kTableSlack = 1e-9;  // covers the bisection's error

struct ThresholdTable {
  double t[kBins + 1];
};

// T(p): the z at which P equals p, by bisection on the monotone P.
const ThresholdTable* BuildTable(bool reference) {
  auto* table = new ThresholdTable;
  constexpr double kFar = 40.0;  // P(40) ~ 1e-350: beyond every double
  table->t[0] = std::numeric_limits<double>::infinity();
  table->t[kBins] = 0.0;
  for (int k = 1; k < kBins; ++k) {
    const double p = static_cast<double>(k) / kBins;
    double lo = 0.0, hi = kFar;  // P(lo) >= p > P(hi), or lo stays at 0 when P(0) < p
    for (int iteration = 0; iteration < 80; ++iteration) {
      const double mid = 0.5 * (lo + hi);
      (law::ResetProbability(mid, reference) >= p ? lo : hi) = mid;
    }
    table->t[k] = 0.5 * (lo + hi);
  }
  return table;
}

const ThresholdTable& Thresholds(bool reference) {
  static const ThresholdTable* reference_table = BuildTable(true);
  static const ThresholdTable* paper_table = BuildTable(false);
  return reference ? *reference_table : *paper_table;
}

float MaxAbs(const float* w, int64_t n) {
  return at::parallel_reduce(
      0, n, 32768, 0.0f,
      [w](int64_t begin, int64_t end, float acc) {
        // Independent lanes so the loop vectorises (maxps) instead of
        // chaining every element through one register.
        float lanes[8] = {0, 0, 0, 0, 0, 0, 0, 0};
        int64_t i = begin;
        for (; i + 8 <= end; i += 8) {
          for (int k = 0; k < 8; ++k) {
            const float a = std::abs(w[i + k]);
            lanes[k] = lanes[k] < a ? a : lanes[k];
          }
        }
        for (; i < end; ++i) acc = std::max(acc, std::abs(w[i]));
        for (float lane : lanes) acc = std::max(acc, lane);
        return acc;
      },
      [](float a, float b) { return std::max(a, b); });
}

}  // namespace

int64_t RejuvenateOnCpu(torch::Tensor& weight, double d_re, RejuvenationVariant variant,
                        uint64_t key, uint64_t subsequence) {
  TORCH_CHECK(weight.device().is_cpu() && weight.scalar_type() == torch::kFloat &&
                  weight.is_contiguous(),
              "RejuvenateOnCpu needs a contiguous float32 CPU tensor");
  float* w = weight.data_ptr<float>();
  const int64_t n = weight.numel();
  if (n == 0) return 0;
  const float m = MaxAbs(w, n);
  const double inv_sigma = law::InverseSigma(m, d_re);
  const bool reference = variant == RejuvenationVariant::kReference;
  const uint64_t stream = law::LayerStream(key, subsequence);
  const double* thresholds = Thresholds(reference).t;
  std::atomic<int64_t> resets{0};
  at::parallel_for(0, n, 16384, [&](int64_t begin, int64_t end) {
    int64_t local = 0;
    for (int64_t i = begin; i < end; ++i) {
      const double y = w[i] * inv_sigma;
      const double z = std::abs(y);
      const uint64_t word = law::WeightWord(stream, static_cast<uint64_t>(i));
      // The top bits of the decision half are the table bin.
      const int bin = static_cast<int>(law::DecisionBits(word) >> (32 - kBinBits));
      if (z >= thresholds[bin] + kTableSlack) continue;                              // T(u) <= T[bin] <= z: keep
      if (z >= thresholds[bin + 1] - kTableSlack && !law::Resets(y, word, reference)) continue;  // undecided by the table
      w[i] = law::FreshWeight(m, word);
      ++local;
    }
    resets.fetch_add(local, std::memory_order_relaxed);
  });
  return resets.load();
}

namespace {

// SplitMix64 on int64 tensors: two's-complement arithmetic wraps like
// uint64_t, and the logical right shifts mask off the sign extension.
torch::Tensor ShiftRightLogical(const torch::Tensor& x, int bits) {
  return x.__rshift__(bits).bitwise_and(static_cast<int64_t>((uint64_t{1} << (64 - bits)) - 1));
}

torch::Tensor SplitMix64Tensor(torch::Tensor x) {
  x = x + static_cast<int64_t>(0x9e3779b97f4a7c15ULL);
  x = x.bitwise_xor(ShiftRightLogical(x, 30)) * static_cast<int64_t>(0xbf58476d1ce4e5b9ULL);
  x = x.bitwise_xor(ShiftRightLogical(x, 27)) * static_cast<int64_t>(0x94d049bb133111ebULL);
  return x.bitwise_xor(ShiftRightLogical(x, 31));
}

torch::Tensor UniformTensor(const torch::Tensor& bits) {
  return (bits.to(torch::kDouble) + 0.5) * law::kInverseTwoTo32;
}

}  // namespace

torch::Tensor RejuvenateWithTensorOps(torch::Tensor& weight, double d_re, RejuvenationVariant variant,
                                      uint64_t key, uint64_t subsequence) {
  TORCH_CHECK(weight.scalar_type() == torch::kFloat && weight.is_contiguous(),
              "RejuvenateWithTensorOps needs a contiguous float32 tensor");
  torch::NoGradGuard no_grad;
  const torch::Tensor flat = weight.view(-1);
  const auto long_options = flat.options().dtype(torch::kLong);
  const torch::Tensor m = flat.numel() > 0 ? flat.abs().max() : torch::zeros({}, flat.options());
  const torch::Tensor inv_sigma = 1.0 / (m.to(torch::kDouble) / d_re + 1e-13);
  const torch::Tensor y = flat.to(torch::kDouble) * inv_sigma;
  const torch::Tensor tail = torch::erfc(y.abs() / std::sqrt(2.0));
  const torch::Tensor probability = variant == RejuvenationVariant::kReference ? tail : 0.5 * tail;
  const int64_t stream = static_cast<int64_t>(law::LayerStream(key, subsequence));
  const torch::Tensor word = SplitMix64Tensor(
      torch::arange(flat.numel(), long_options) * static_cast<int64_t>(law::kWeightStride) + stream);
  const torch::Tensor reset = UniformTensor(ShiftRightLogical(word, 32)) < probability;
  const torch::Tensor fresh =
      (UniformTensor(word.bitwise_and(static_cast<int64_t>(0xffffffffLL))) * 2.0 - 1.0).to(torch::kFloat) * m;
  flat.copy_(torch::where(reset, fresh, flat));
  return reset.sum();
}

bool RejuvenationKernelsBuilt() {
#ifdef BIOFED_WITH_CUDA
  return true;
#else
  return false;
#endif
}

WeightRejuvenation::WeightRejuvenation(const std::vector<NamedTensor>& targets, double d_re,
                                       RejuvenationVariant variant, uint64_t seed)
    : d_re_(d_re), variant_(variant), seed_(MixSeed(seed, kRejuvenationStream, 0)) {
  for (const NamedTensor& target : targets) weights_.push_back(target.tensor);
  host_counts_.assign(weights_.size(), 0);
  if (weights_.empty() || weights_.front().device().is_cpu()) return;
#ifdef BIOFED_WITH_CUDA
  if (weights_.front().device().is_cuda()) {
    cuda_ = std::make_unique<CudaRejuvenation>(weights_, d_re_, variant_, seed_);
    return;
  }
#endif
  device_counts_ = torch::zeros({static_cast<int64_t>(weights_.size())},
                                torch::TensorOptions().dtype(torch::kLong).device(weights_.front().device()));
}

WeightRejuvenation::~WeightRejuvenation() = default;
WeightRejuvenation::WeightRejuvenation(WeightRejuvenation&&) noexcept = default;
WeightRejuvenation& WeightRejuvenation::operator=(WeightRejuvenation&&) noexcept = default;

void WeightRejuvenation::Apply() {
  torch::NoGradGuard no_grad;
#ifdef BIOFED_WITH_CUDA
  if (cuda_) {
    cuda_->Apply();  // counts its passes on the device
    return;
  }
#endif
  for (size_t i = 0; i < weights_.size(); ++i) {
    torch::Tensor& w = weights_[i];
    const uint64_t subsequence = law::Subsequence(calls_, i);
    if (w.device().is_cpu()) {
      host_counts_[i] += RejuvenateOnCpu(w, d_re_, variant_, seed_, subsequence);
    } else {
      device_counts_[static_cast<int64_t>(i)] += RejuvenateWithTensorOps(w, d_re_, variant_, seed_, subsequence);
    }
  }
  ++calls_;
  ++calls_since_reset_;
}

std::vector<double> WeightRejuvenation::MeanResetFractions() const {
#ifdef BIOFED_WITH_CUDA
  if (cuda_) return cuda_->MeanResetFractions();
#endif
  std::vector<double> out(weights_.size(), 0.0);
  if (calls_since_reset_ == 0) return out;
  const torch::Tensor counts = device_counts_.defined() ? device_counts_.cpu() : torch::Tensor();
  for (size_t i = 0; i < weights_.size(); ++i) {
    const int64_t count =
        counts.defined() ? counts[static_cast<int64_t>(i)].item<int64_t>() : host_counts_[i];
    out[i] = static_cast<double>(count) /
             (static_cast<double>(weights_[i].numel()) * static_cast<double>(calls_since_reset_));
  }
  return out;
}

void WeightRejuvenation::ResetStatistics() {
  host_counts_.assign(weights_.size(), 0);
  if (device_counts_.defined()) device_counts_.zero_();
#ifdef BIOFED_WITH_CUDA
  if (cuda_) cuda_->ResetCounts();
#endif
  calls_since_reset_ = 0;
}

}  // namespace biofed
