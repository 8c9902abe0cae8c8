#include "client/weight_rejuvenation.h"

#include <atomic>
#include <cmath>
#include <limits>

#include <ATen/Parallel.h>
#include <torch/torch.h>

#include "client/seeds.h"

namespace biofed {
namespace {

// A weight at y = w / sigma is reset when its uniform u satisfies
// u < P(y), P(y) = erfc(|y| / sqrt 2) (reference) or erfc(y / sqrt 2) / 2
// (paper). P falls as z = |y| (reference) or z = y (paper) grows, so this
// is z < T(u) with T the inverse of P. T is tabulated at u = k / kBins; for
// u in bin k, T(u) lies in (T[k + 1], T[k]], which settles almost every
// weight with two comparisons. The few z inside that interval are decided
// with std::erfc, so the law is exact.
constexpr int kBinBits = 12;
constexpr int kBins = 1 << kBinBits;
constexpr double kInverseTwoTo32 = 1.0 / 4294967296.0;
constexpr double kTableSlack = 1e-9;  // covers the bisection's error

struct ThresholdTable {
  double t[kBins + 1];
};

double ResetProbability(double y, bool reference) {
  return reference ? std::erfc(std::abs(y) / std::sqrt(2.0)) : 0.5 * std::erfc(y / std::sqrt(2.0));
}

// T(p): the z at which P equals p, by bisection on the monotone P.
const ThresholdTable* BuildTable(bool reference) {
  auto* table = new ThresholdTable;
  constexpr double kFar = 40.0;  // P(40) ~ 1e-350: beyond every double
  table->t[0] = std::numeric_limits<double>::infinity();
  table->t[kBins] = reference ? 0.0 : -std::numeric_limits<double>::infinity();
  for (int k = 1; k < kBins; ++k) {
    const double p = static_cast<double>(k) / kBins;
    double lo = reference ? 0.0 : -kFar, hi = kFar;  // P(lo) >= p > P(hi)
    for (int iteration = 0; iteration < 80; ++iteration) {
      const double mid = 0.5 * (lo + hi);
      (ResetProbability(mid, reference) >= p ? lo : hi) = mid;
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
  const double sigma = static_cast<double>(m) / d_re + 1e-13;
  const double inv_sigma = 1.0 / sigma;
  const bool reference = variant == RejuvenationVariant::kReference;
  const uint64_t stream = SplitMix64(key ^ SplitMix64(subsequence));
  const double* thresholds = Thresholds(reference).t;
  std::atomic<int64_t> resets{0};
  at::parallel_for(0, n, 16384, [&](int64_t begin, int64_t end) {
    int64_t local = 0;
    for (int64_t i = begin; i < end; ++i) {
      const double y = w[i] * inv_sigma;
      const double z = reference ? std::abs(y) : y;
      // One 64-bit word per weight: the high half u decides (its top bits
      // are the table bin), the low half is the new value.
      const uint64_t word = SplitMix64(stream + static_cast<uint64_t>(i) * 0x9e3779b97f4a7c15ULL);
      const uint32_t high = static_cast<uint32_t>(word >> 32);
      const int bin = static_cast<int>(high >> (32 - kBinBits));
      if (z >= thresholds[bin] + kTableSlack) continue;  // T(u) <= T[bin] <= z: keep
      if (z >= thresholds[bin + 1] - kTableSlack) {       // undecided by the table
        const double u = (static_cast<double>(high) + 0.5) * kInverseTwoTo32;
        if (u >= ResetProbability(y, reference)) continue;
      }
      const double v = (static_cast<double>(word & 0xffffffffULL) + 0.5) * kInverseTwoTo32;
      w[i] = m * static_cast<float>(2.0 * v - 1.0);
      ++local;
    }
    resets.fetch_add(local, std::memory_order_relaxed);
  });
  return resets.load();
}

torch::Tensor RejuvenateWithTensorOps(torch::Tensor& weight, double d_re,
                                      RejuvenationVariant variant, at::Generator& generator) {
  torch::NoGradGuard no_grad;
  const torch::Tensor m = weight.abs().max();
  const torch::Tensor sigma = m / d_re + 1e-13;
  torch::Tensor draw = at::normal(0.0, 1.0, weight.sizes(), generator, weight.options());
  torch::Tensor reset;
  if (variant == RejuvenationVariant::kReference) {
    reset = draw.abs_().mul_(sigma).gt(weight.abs());
  } else {
    reset = draw.mul_(sigma).gt(weight);
  }
  const torch::Tensor fresh =
      torch::empty_like(weight).uniform_(-1.0, 1.0, generator).mul_(m);
  weight.copy_(torch::where(reset, fresh, weight));
  return reset.sum();
}

WeightRejuvenation::WeightRejuvenation(const std::vector<NamedTensor>& targets, double d_re,
                                       RejuvenationVariant variant, uint64_t seed)
    : d_re_(d_re), variant_(variant), seed_(MixSeed(seed, kRejuvenationStream, 0)) {
  for (size_t i = 0; i < targets.size(); ++i) {
    const torch::Tensor& w = targets[i].tensor;
    weights_.push_back(w);
    if (w.device().is_cpu()) continue;
    at::Generator generator = at::globalContext().defaultGenerator(w.device()).clone();
    generator.set_current_seed(MixSeed(seed_, kRejuvenationStream, i));
    generators_.push_back(generator);
  }
  host_counts_.assign(weights_.size(), 0);
  if (!generators_.empty()) {
    device_counts_ = torch::zeros({static_cast<int64_t>(weights_.size())},
                                  torch::TensorOptions().dtype(torch::kLong).device(
                                      weights_.front().device()));
  }
}

void WeightRejuvenation::Apply() {
  torch::NoGradGuard no_grad;
  size_t generator_index = 0;
  for (size_t i = 0; i < weights_.size(); ++i) {
    torch::Tensor& w = weights_[i];
    if (w.device().is_cpu()) {
      // Subsequence (call, layer) makes every draw of the client's life distinct.
      host_counts_[i] += RejuvenateOnCpu(w, d_re_, variant_, seed_, (calls_ << 16) | i);
    } else {
      device_counts_[static_cast<int64_t>(i)] +=
          RejuvenateWithTensorOps(w, d_re_, variant_, generators_[generator_index++]);
    }
  }
  ++calls_;
  ++calls_since_reset_;
}

std::vector<double> WeightRejuvenation::MeanResetFractions() const {
  std::vector<double> out(weights_.size(), 0.0);
  if (calls_since_reset_ == 0) return out;
  const torch::Tensor device = device_counts_.defined() ? device_counts_.cpu() : torch::Tensor();
  for (size_t i = 0; i < weights_.size(); ++i) {
    const int64_t count = weights_[i].device().is_cpu()
                              ? host_counts_[i]
                              : device[static_cast<int64_t>(i)].item<int64_t>();
    out[i] = static_cast<double>(count) /
             (static_cast<double>(weights_[i].numel()) * static_cast<double>(calls_since_reset_));
  }
  return out;
}

void WeightRejuvenation::ResetStatistics() {
  host_counts_.assign(weights_.size(), 0);
  if (device_counts_.defined()) device_counts_.zero_();
  calls_since_reset_ = 0;
}

}  // namespace biofed
