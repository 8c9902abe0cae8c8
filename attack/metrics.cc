#include "attack/metrics.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

#include <torch/torch.h>

namespace biofed {
namespace {

// The standard 11x11 window, or the largest odd window that fits a smaller image.
torch::Tensor GaussianWindow(int64_t channels, int64_t height, int64_t width,
                             const torch::TensorOptions& options) {
  int64_t kSize = std::min<int64_t>({11, height, width});
  if (kSize % 2 == 0) --kSize;
  constexpr double kSigma = 1.5;
  torch::Tensor g = torch::arange(kSize, options.dtype(torch::kDouble)) - (kSize - 1) / 2.0;
  g = torch::exp(-(g * g) / (2 * kSigma * kSigma));
  g = g / g.sum();
  const torch::Tensor window = torch::outer(g, g).to(options.dtype());
  return window.expand({channels, 1, kSize, kSize}).contiguous();
}

}  // namespace

torch::Tensor PerImageMse(const torch::Tensor& a, const torch::Tensor& b) {
  return (a.to(torch::kDouble) - b.to(torch::kDouble)).pow(2).flatten(1).mean(1);
}

double PsnrFromMse(double mse) {
  if (mse <= 0) return std::numeric_limits<double>::infinity();
  return 10.0 * std::log10(1.0 / mse);
}

torch::Tensor PerImageSsim(const torch::Tensor& a_in, const torch::Tensor& b_in) {
  torch::NoGradGuard no_grad;
  const torch::Tensor a = a_in.to(torch::kDouble);
  const torch::Tensor b = b_in.to(torch::kDouble);
  const int64_t c = a.size(1);
  const torch::Tensor w = GaussianWindow(c, a.size(2), a.size(3), a.options());
  auto filter = [&](const torch::Tensor& x) { return at::conv2d(x, w, torch::Tensor(), at::IntArrayRef{1, 1}, at::IntArrayRef{0, 0}, at::IntArrayRef{1, 1}, c); };
  constexpr double kC1 = 0.01 * 0.01, kC2 = 0.03 * 0.03;
  const torch::Tensor mu_a = filter(a), mu_b = filter(b);
  const torch::Tensor var_a = filter(a * a) - mu_a * mu_a;
  const torch::Tensor var_b = filter(b * b) - mu_b * mu_b;
  const torch::Tensor cov = filter(a * b) - mu_a * mu_b;
  const torch::Tensor map = ((2 * mu_a * mu_b + kC1) * (2 * cov + kC2)) /
                            ((mu_a * mu_a + mu_b * mu_b + kC1) * (var_a + var_b + kC2));
  return map.flatten(1).mean(1);
}

torch::Tensor PerImageRelativeError(const torch::Tensor& reconstruction, const torch::Tensor& truth) {
  const torch::Tensor r = reconstruction.to(torch::kDouble).flatten(1);
  const torch::Tensor t = truth.to(torch::kDouble).flatten(1);
  return 100.0 * (r - t).pow(2).sum(1) / t.pow(2).sum(1).clamp_min(1e-30);
}

std::vector<int64_t> HungarianAssignment(const std::vector<std::vector<double>>& cost) {
  // Shortest augmenting paths with potentials (Kuhn-Munkres), 1-based.
  const int n = static_cast<int>(cost.size());
  const double kInf = std::numeric_limits<double>::infinity();
  std::vector<double> u(n + 1, 0), v(n + 1, 0);
  std::vector<int> p(n + 1, 0), way(n + 1, 0);
  for (int i = 1; i <= n; ++i) {
    p[0] = i;
    int j0 = 0;
    std::vector<double> minv(n + 1, kInf);
    std::vector<bool> used(n + 1, false);
    do {
      used[j0] = true;
      const int i0 = p[j0];
      double delta = kInf;
      int j1 = 0;
      for (int j = 1; j <= n; ++j) {
        if (used[j]) continue;
        const double cur = cost[i0 - 1][j - 1] - u[i0] - v[j];
        if (cur < minv[j]) minv[j] = cur, way[j] = j0;
        if (minv[j] < delta) delta = minv[j], j1 = j;
      }
      for (int j = 0; j <= n; ++j) {
        if (used[j]) {
          u[p[j]] += delta;
          v[j] -= delta;
        } else {
          minv[j] -= delta;
        }
      }
      j0 = j1;
    } while (p[j0] != 0);
    do {
      const int j1 = way[j0];
      p[j0] = p[j1];
      j0 = j1;
    } while (j0 != 0);
  }
  std::vector<int64_t> assignment(n, 0);
  for (int j = 1; j <= n; ++j) assignment[p[j] - 1] = j - 1;
  return assignment;
}

double LabelMultisetAccuracy(const std::vector<int64_t>& a, const std::vector<int64_t>& b) {
  if (a.empty() || b.empty()) return 0.0;
  std::map<int64_t, int64_t> counts;
  for (int64_t l : a) ++counts[l];
  for (int64_t l : b) --counts[l];
  int64_t difference = 0;
  for (const auto& [label, count] : counts) difference += std::abs(count);
  return 1.0 - static_cast<double>(difference) / static_cast<double>(a.size() + b.size());
}

BatchScore ScoreReconstruction(const torch::Tensor& reconstruction, const torch::Tensor& truth,
                               const std::vector<int64_t>& reconstructed_labels,
                               const std::vector<int64_t>& true_labels) {
  torch::NoGradGuard no_grad;
  const torch::Tensor rec = reconstruction.detach().to(torch::kCPU, torch::kDouble);
  const torch::Tensor tru = truth.detach().to(torch::kCPU, torch::kDouble);
  const int64_t n = rec.size(0), m = tru.size(0), k = std::max(n, m);
  // Square by padding with zero-cost dummies: every assignment pairs the same
  // number of dummies, so the real pairs are an optimal min(n, m) matching.
  std::vector<std::vector<double>> cost(k, std::vector<double>(k, 0.0));
  for (int64_t i = 0; i < n; ++i) {
    const torch::Tensor mse = (tru - rec[i].unsqueeze(0)).pow(2).flatten(1).mean(1);
    for (int64_t j = 0; j < m; ++j) cost[i][j] = mse[j].item<double>();
  }
  const std::vector<int64_t> assignment = HungarianAssignment(cost);
  std::vector<int64_t> rec_index, truth_index;
  for (int64_t i = 0; i < n; ++i) {
    if (assignment[i] < m) {
      rec_index.push_back(i);
      truth_index.push_back(assignment[i]);
    }
  }
  const torch::Tensor paired = rec.index_select(0, torch::tensor(rec_index, torch::kLong));
  const torch::Tensor matched = tru.index_select(0, torch::tensor(truth_index, torch::kLong));
  const torch::Tensor mse = PerImageMse(paired, matched);
  const torch::Tensor ssim = PerImageSsim(paired, matched);
  const torch::Tensor rel = PerImageRelativeError(paired, matched);
  BatchScore score;
  score.unmatched_reconstructions = n - static_cast<int64_t>(rec_index.size());
  score.unmatched_truths = m - static_cast<int64_t>(rec_index.size());
  score.best_psnr = -std::numeric_limits<double>::infinity();
  score.worst_relative_error_percent = std::numeric_limits<double>::infinity();
  const double pairs = static_cast<double>(rec_index.size());
  for (size_t p = 0; p < rec_index.size(); ++p) {
    ImageScore s;
    s.reconstruction_index = rec_index[p];
    s.truth_index = truth_index[p];
    s.mse = mse[p].item<double>();
    s.psnr = PsnrFromMse(s.mse);
    s.ssim = ssim[p].item<double>();
    s.relative_error_percent = rel[p].item<double>();
    score.mean_mse += s.mse / pairs;
    score.mean_psnr += s.psnr / pairs;
    score.mean_ssim += s.ssim / pairs;
    score.mean_relative_error_percent += s.relative_error_percent / pairs;
    score.best_psnr = std::max(score.best_psnr, s.psnr);
    score.worst_relative_error_percent = std::min(score.worst_relative_error_percent, s.relative_error_percent);
    if (s.psnr >= kRecoveredPsnrDb) score.recovered_fraction += 1.0 / static_cast<double>(m);
    score.images.push_back(s);
  }
  score.label_accuracy = LabelMultisetAccuracy(reconstructed_labels, true_labels);
  return score;
}

at::Tensor ReconstructionsInTruthOrder(const BatchScore& score, const at::Tensor& reconstruction,
                                       const at::Tensor& truth) {
  torch::NoGradGuard no_grad;
  torch::Tensor out = torch::zeros_like(truth, reconstruction.options());
  for (const ImageScore& s : score.images) out[s.truth_index].copy_(reconstruction[s.reconstruction_index]);
  return out;
}

}  // namespace biofed
