// Image-space scores of a reconstruction against the true batch, on [0, 1]
// images [B, C, H, W]: one-to-one Hungarian matching, per-image MSE, PSNR,
// SSIM (11x11 Gaussian window, sigma 1.5, K1 0.01, K2 0.03, data range 1;
// images smaller than 11 pixels use the largest odd window that fits),
// relative error, and label accuracy as multiset overlap. Stateless;
// thread-safe. Inputs are CPU or CUDA tensors; results are host values.
#ifndef BIOFED_ATTACK_METRICS_H_
#define BIOFED_ATTACK_METRICS_H_

#include <cstdint>
#include <vector>

#include <ATen/core/Tensor.h>

namespace biofed {

// Mean squared error of each image pair: [B] float64.
at::Tensor PerImageMse(const at::Tensor& a, const at::Tensor& b);
// 10 log10(1 / mse) (infinite for identical images).
double PsnrFromMse(double mse);
// Mean SSIM of each image pair over channels and valid window positions: [B].
at::Tensor PerImageSsim(const at::Tensor& a, const at::Tensor& b);
// 100 ||a - b||^2 / ||b||^2 of each pair (b the truth): [B].
at::Tensor PerImageRelativeError(const at::Tensor& reconstruction, const at::Tensor& truth);

// Minimum-cost perfect matching of a square cost matrix (rows to columns),
// Hungarian algorithm, O(n^3). Returns assignment[row] = column.
std::vector<int64_t> HungarianAssignment(const std::vector<std::vector<double>>& cost);

// 1 - sum_c |count_a(c) - count_b(c)| / (|a| + |b|): multiset overlap
// (1 - difference / 2B for lists of equal size B); 0 when either is empty.
double LabelMultisetAccuracy(const std::vector<int64_t>& a, const std::vector<int64_t>& b);

struct ImageScore {
  int64_t reconstruction_index = 0;
  int64_t truth_index = 0;           // which true image this reconstruction was matched to
  double mse = 0, psnr = 0, ssim = 0, relative_error_percent = 0;
};

// A true image counts as recovered when its matched reconstruction reaches
// this PSNR (the imprint literature's threshold, Fowl et al. 2022).
inline constexpr double kRecoveredPsnrDb = 30.0;

struct BatchScore {
  std::vector<ImageScore> images;    // per matched reconstruction, in reconstruction order
  double mean_mse = 0, mean_psnr = 0, mean_ssim = 0, mean_relative_error_percent = 0;
  double best_psnr = 0;              // the worst case for privacy (max PSNR)
  double worst_relative_error_percent = 0;  // min relative error, i.e. the best-recovered image
  double label_accuracy = 0;
  // The fraction of the true images recovered (kRecoveredPsnrDb), of all of
  // them: an unmatched truth is not recovered.
  double recovered_fraction = 0;
  // With a batch size the attacker estimated, the counts may differ: the
  // pairs are an optimal matching of min(B_hat, B), the means are over them,
  // and these count what was left over.
  int64_t unmatched_truths = 0;
  int64_t unmatched_reconstructions = 0;
};

// Matches reconstructions to truths one-to-one by per-pair MSE, then scores
// each pair. [N, C, H, W] and [B, C, H, W] on [0, 1] (N != B when the
// attacker estimated B); labels may be empty (label accuracy 0 then).
BatchScore ScoreReconstruction(const at::Tensor& reconstruction, const at::Tensor& truth,
                               const std::vector<int64_t>& reconstructed_labels,
                               const std::vector<int64_t>& true_labels);

// The reconstructions rearranged to the truths' order (the one matched to
// true image j at j; black where a truth has none), for truth-above-
// reconstruction grids. [B, C, H, W].
at::Tensor ReconstructionsInTruthOrder(const BatchScore& score, const at::Tensor& reconstruction,
                                       const at::Tensor& truth);

}  // namespace biofed

#endif  // BIOFED_ATTACK_METRICS_H_
