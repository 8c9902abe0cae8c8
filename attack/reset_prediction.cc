#include "attack/reset_prediction.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <string>

#include <torch/torch.h>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "common/torch_status.h"
#include "models/model.h"
#include "models/model_state.h"

namespace biofed {

namespace {

// The density of the gradient-only magnitudes `sorted` (ascending) at each
// of x: the fraction of them in [x / kWindow, x kWindow] over that
// interval's width. Infinite at x = 0 (where gradient-only entries that are
// exactly zero, e.g. an MLP's weights on black pixels, make any width too
// wide): a reset entry is never exactly zero.
constexpr double kWindow = 1.5;

torch::Tensor GradientDensity(const torch::Tensor& sorted, const torch::Tensor& x) {
  const torch::Tensor low = torch::searchsorted(sorted, x / kWindow);
  const torch::Tensor high = torch::searchsorted(sorted, x * kWindow, /*out_int32=*/false, /*right=*/true);
  const torch::Tensor fraction = (high - low).to(torch::kDouble) / static_cast<double>(sorted.numel());
  const torch::Tensor density = fraction / (x * (kWindow - 1.0 / kWindow));
  return torch::where(x > 0, density, torch::full_like(x, std::numeric_limits<double>::infinity()));
}

}  // namespace

torch::Tensor PredictTensorResets(const torch::Tensor& global_weight, const torch::Tensor& update, double lr,
                                  double d_re, bool paper_law) {
  torch::NoGradGuard no_grad;
  const torch::Tensor w = global_weight.detach().to(torch::kDouble).abs().reshape(-1);
  const torch::Tensor u = update.detach().to(torch::kDouble).abs().to(w.device()).reshape(-1);
  const auto shaped = [&](const torch::Tensor& flat) { return flat.reshape(global_weight.sizes()); };
  const torch::Tensor none = torch::zeros(global_weight.sizes(), w.options().dtype(torch::kBool));
  const double m = w.numel() > 0 ? w.max().item<double>() : 0.0;
  if (!(m > 0)) return none;
  const torch::Tensor probability = torch::erfc(w * (d_re / (m * std::sqrt(2.0)))) * (paper_law ? 0.5 : 1.0);
  const torch::Tensor eligible = probability >= kNegligibleResetProbability;
  const torch::Tensor gradient_only = std::get<0>(u.masked_select(~eligible).sort());
  // Nonzero ones, to tell a gradient's scale (exact zeros, e.g. an MLP's
  // weights on black pixels, say nothing about it).
  const torch::Tensor nonzero = gradient_only.masked_select(gradient_only > 0);
  if (nonzero.numel() < kMinGradientOnly) {
    const double mu = probability.masked_select(eligible).sum().item<double>();
    const torch::Tensor candidates = u.masked_select(eligible);
    const int64_t count =
        std::min<int64_t>(candidates.numel(), static_cast<int64_t>(std::ceil(mu + 3.0 * std::sqrt(mu))));
    if (count == 0) return none;
    const double threshold = std::get<0>(candidates.topk(count)).min().item<double>();
    return shaped(eligible & (u >= threshold) & (u > 0));
  }
  // A reset entry's magnitude is |w - fresh| / lr + O(|g|), fresh ~ U(-m, m):
  // density lr / m up to (m - |w|) / lr, lr / 2m up to (m + |w|) / lr (with
  // the gradient's largest entry as slack), 0 beyond.
  const double slack = gradient_only[-1].item<double>();
  const torch::Tensor distance = u * lr;
  const torch::Tensor far_side = torch::where(distance <= m + w + lr * slack, torch::full_like(u, lr / (2 * m)),
                                              torch::zeros_like(u));
  const torch::Tensor reset_density = torch::where(distance <= m - w, torch::full_like(u, lr / m), far_side);
  // Reset where the posterior odds p / (1 - p) f_reset / f_gradient exceed 1,
  // among the entries larger than a typical gradient-only one (the median of
  // the nonzero ones): below it the window holds too few gradient-only
  // entries to tell, and a reset that small is no larger than the gradient.
  const double typical = nonzero.median().item<double>();
  const torch::Tensor odds = probability / (1 - probability).clamp_min(1e-12) * reset_density;
  return shaped(eligible & (u > typical) & (odds > GradientDensity(gradient_only, u)));
}

absl::StatusOr<std::vector<torch::Tensor>> PredictResetMask(const UpdateRecord& record, double d_re,
                                                             bool paper_law) {
  if (!(d_re > 0) || !std::isfinite(d_re)) {
    return absl::InvalidArgumentError(absl::StrCat("predicting resets needs the protocol's d_re > 0, got ", d_re));
  }
  return CallTorch("predicting the resets", [&]() -> absl::StatusOr<std::vector<torch::Tensor>> {
    BIOFED_ASSIGN_OR_RETURN(Model model, BuildModel(record.spec, 0));
    BIOFED_RETURN_IF_ERROR(LoadState(model, record.global_state));
    std::map<std::string, torch::Tensor> sent;
    for (const NamedTensor& t : record.update) sent[t.name] = t.tensor;
    std::vector<torch::Tensor> out;
    for (const NamedTensor& target : model.MechanismTargets()) {
      const auto it = sent.find(target.name);
      if (it == sent.end()) return absl::InvalidArgumentError(absl::StrCat("the update lacks '", target.name, "'"));
      if (it->second.sizes() != target.tensor.sizes()) {
        return absl::InvalidArgumentError(absl::StrCat("the update's '", target.name, "' has the wrong shape"));
      }
      out.push_back(PredictTensorResets(target.tensor, it->second, record.lr, d_re, paper_law));
    }
    return out;
  });
}

}  // namespace biofed
