#include "client/weight_rejuvenation.h"

#include <array>
#include <atomic>
#include <cmath>

#include <ATen/Parallel.h>
#include <ATen/core/PhiloxRNGEngine.h>
#include <torch/torch.h>

#include "client/seeds.h"

namespace biofed {
namespace {

// Above this |w| / sigma the reset probability erfc(x / sqrt 2) is < 2^-33,
// below the resolution of the 32-bit uniforms it is compared with.
constexpr double kNeverResetAbove = 6.5;
constexpr int kTableSize = 4096;
constexpr double kTableStep = kNeverResetAbove / kTableSize;
// Linear interpolation of erfc(x / sqrt 2) on this grid errs by at most
// h^2 / 8 * max|q''| = h^2 / 8 * 2 phi(1) ~ 1.5e-7; decisions closer than
// this margin to the interpolated value fall back to std::erfc.
constexpr double kTableMargin = 1e-6;
constexpr double kTwoTo32 = 4294967296.0;

const std::array<double, kTableSize + 2>& TailTable() {
  static const auto* table = [] {
    auto* t = new std::array<double, kTableSize + 2>();
    for (int i = 0; i < kTableSize + 2; ++i) (*t)[i] = std::erfc(i * kTableStep / std::sqrt(2.0));
    return t;
  }();
  return *table;
}

// Two-sided tail q(x) = erfc(x / sqrt 2) = P(|Z| > x) for x >= 0, and its
// interpolated value with the exact fallback decided by the caller.
inline double TableTail(double x) {
  const auto& table = TailTable();
  const double pos = x / kTableStep;
  const int i = static_cast<int>(pos);
  const double frac = pos - i;
  return table[i] + (table[i + 1] - table[i]) * frac;
}

// P(reset) for a weight at y = w / sigma, from a tail value q of |y|.
inline double ResetProbability(double y, double q, RejuvenationVariant variant) {
  if (variant == RejuvenationVariant::kReference) return q;
  return y >= 0 ? 0.5 * q : 1.0 - 0.5 * q;  // 1 - Phi(y)
}

// Decides u < P(reset) for y = w / sigma exactly, using the table when u is
// clear of the interpolation error.
inline bool ShouldReset(double y, double u, RejuvenationVariant variant) {
  const double x = std::abs(y);
  if (x >= kNeverResetAbove) {
    // q < 2^-33: reference never resets; paper resets iff y is negative.
    return variant == RejuvenationVariant::kPaper && y < 0;
  }
  const double q = TableTail(x);
  const double lo = ResetProbability(y, q - kTableMargin, variant);
  const double hi = ResetProbability(y, q + kTableMargin, variant);
  if (u < std::min(lo, hi)) return true;
  if (u >= std::max(lo, hi)) return false;
  return u < ResetProbability(y, std::erfc(x / std::sqrt(2.0)), variant);
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
  const float m = at::parallel_reduce(
      0, n, 4096, 0.0f,
      [w](int64_t begin, int64_t end, float acc) {
        for (int64_t i = begin; i < end; ++i) acc = std::max(acc, std::abs(w[i]));
        return acc;
      },
      [](float a, float b) { return std::max(a, b); });
  const double sigma = static_cast<double>(m) / d_re + 1e-13;
  const double inv_sigma = 1.0 / sigma;
  std::atomic<int64_t> resets{0};
  // Element pair p uses one Philox block (four 32-bit words): a decision
  // uniform and a value uniform for each of elements 2p and 2p + 1.
  const int64_t pairs = (n + 1) / 2;
  at::parallel_for(0, pairs, 2048, [&](int64_t begin, int64_t end) {
    int64_t local = 0;
    for (int64_t p = begin; p < end; ++p) {
      const int64_t first = 2 * p;
      const int64_t last = std::min(first + 2, n);
      bool drawn = false;
      uint32_t words[4] = {0, 0, 0, 0};
      for (int64_t i = first; i < last; ++i) {
        const double y = w[i] * inv_sigma;
        if (variant == RejuvenationVariant::kReference && std::abs(y) >= kNeverResetAbove) continue;
        if (!drawn) {
          at::Philox4_32 engine(key, subsequence, static_cast<uint64_t>(p));
          for (uint32_t& word : words) word = engine();
          drawn = true;
        }
        const int slot = static_cast<int>(i - first) * 2;
        const double u = (words[slot] + 0.5) / kTwoTo32;
        if (ShouldReset(y, u, variant)) {
          const double v = (words[slot + 1] + 0.5) / kTwoTo32;
          w[i] = m * static_cast<float>(2.0 * v - 1.0);
          ++local;
        }
      }
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
