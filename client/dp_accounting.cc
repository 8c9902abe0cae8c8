#include "client/dp_accounting.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

namespace biofed {
namespace {

// log(exp(a) + exp(b)), exact where one of them is -infinity.
double LogAddExp(double a, double b) {
  if (a == -std::numeric_limits<double>::infinity()) return b;
  if (b == -std::numeric_limits<double>::infinity()) return a;
  const double high = std::max(a, b);
  return high + std::log1p(std::exp(std::min(a, b) - high));
}

// log A_a for one step, a an integer >= 2 (MTZ 2019, section 3.3):
//   A_a = sum_k binom(a, k) (1 - q)^(a - k) q^k exp((k^2 - k) / (2 sigma^2)).
double LogMomentOneStep(double q, double sigma, int order) {
  const double log_q = std::log(q);
  const double log_1mq = std::log1p(-q);
  double log_a = -std::numeric_limits<double>::infinity();
  for (int k = 0; k <= order; ++k) {
    const double log_binomial = std::lgamma(order + 1.0) - std::lgamma(k + 1.0) - std::lgamma(order - k + 1.0);
    const double term =
        log_binomial + (order - k) * log_1mq + k * log_q + (static_cast<double>(k) * k - k) / (2 * sigma * sigma);
    log_a = LogAddExp(log_a, term);
  }
  return log_a;
}

absl::Status CheckMechanism(const SampledGaussian& m) {
  if (!(m.sampling_rate >= 0 && m.sampling_rate <= 1)) {
    return absl::InvalidArgumentError(absl::StrCat("sampling rate must be in [0, 1], got ", m.sampling_rate));
  }
  if (!(m.noise_multiplier > 0) || !std::isfinite(m.noise_multiplier)) {
    return absl::InvalidArgumentError(absl::StrCat("noise multiplier must be > 0, got ", m.noise_multiplier));
  }
  if (m.steps < 0) return absl::InvalidArgumentError(absl::StrCat("steps must be >= 0, got ", m.steps));
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::vector<double>> SampledGaussianRdp(const SampledGaussian& mechanism,
                                                       const std::vector<int>& orders) {
  BIOFED_RETURN_IF_ERROR(CheckMechanism(mechanism));
  std::vector<double> rdp;
  rdp.reserve(orders.size());
  const double q = mechanism.sampling_rate;
  const double sigma = mechanism.noise_multiplier;
  for (int order : orders) {
    if (order < 2) return absl::InvalidArgumentError(absl::StrCat("RDP orders must be integers >= 2, got ", order));
    double per_step = 0;  // q = 0: nothing is released about anyone
    if (q == 1) {
      per_step = order / (2 * sigma * sigma);  // the plain Gaussian mechanism
    } else if (q > 0) {
      per_step = LogMomentOneStep(q, sigma, order) / (order - 1);
    }
    rdp.push_back(per_step * static_cast<double>(mechanism.steps));
  }
  return rdp;
}

absl::StatusOr<PrivacySpent> EpsilonFromRdp(const std::vector<int>& orders, const std::vector<double>& rdp,
                                            double delta) {
  if (!(delta > 0 && delta < 1))
    return absl::InvalidArgumentError(absl::StrCat("delta must be in (0, 1), got ", delta));
  if (orders.empty() || orders.size() != rdp.size()) {
    return absl::InvalidArgumentError("one RDP value per order, and at least one order");
  }
  PrivacySpent best{std::numeric_limits<double>::infinity(), orders.front()};
  for (size_t i = 0; i < orders.size(); ++i) {
    if (orders[i] < 2) return absl::InvalidArgumentError(absl::StrCat("RDP orders must be >= 2, got ", orders[i]));
    const double epsilon = rdp[i] + std::log(1 / delta) / (orders[i] - 1);
    if (epsilon < best.epsilon) best = {epsilon, orders[i]};
  }
  return best;
}

std::vector<int> DefaultRdpOrders() {
  std::vector<int> orders;
  for (int a = 2; a <= 64; ++a) orders.push_back(a);
  orders.push_back(128);
  orders.push_back(256);
  return orders;
}

absl::StatusOr<PrivacySpent> DpSgdEpsilon(const SampledGaussian& mechanism, double delta) {
  const std::vector<int> orders = DefaultRdpOrders();
  BIOFED_ASSIGN_OR_RETURN(const std::vector<double> rdp, SampledGaussianRdp(mechanism, orders));
  return EpsilonFromRdp(orders, rdp, delta);
}

}  // namespace biofed
