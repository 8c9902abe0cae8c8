#include "attack/imprint.h"

#include <algorithm>
#include <vector>

#include <torch/torch.h>

#include "absl/strings/str_cat.h"

#include "common/status_macros.h"
#include "common/torch_status.h"
#include "models/model_state.h"
#include "wire/torch_bridge.h"

namespace biofed {
namespace {

constexpr int64_t kImprintPublicImages = 10000;

// The bins' thresholds, ascending: the lowest sits a whole brightness range
// below the public minimum (its bin sees every example), the others at the
// k/bins quantiles, so each interval holds about 1/bins of the images.
torch::Tensor Thresholds(const torch::Tensor& brightness, int64_t bins) {
  const torch::Tensor sorted = std::get<0>(brightness.to(torch::kDouble).sort());
  const int64_t n = sorted.size(0);
  const double low = sorted[0].item<double>(), high = sorted[n - 1].item<double>();
  std::vector<double> thresholds = {low - std::max(high - low, 1.0)};
  for (int64_t k = 1; k < bins; ++k) thresholds.push_back(sorted[k * (n - 1) / bins].item<double>());
  return torch::tensor(thresholds, torch::kDouble);
}

}  // namespace

absl::StatusOr<Model> ImprintedModel(const Model& classifier, int64_t bins, const at::Tensor& public_images) {
  if (classifier.spec().imprint_bins > 0) return absl::InvalidArgumentError("the model already has an imprint block");
  if (bins < 2 || bins > kMaxImprintBins) {
    return absl::InvalidArgumentError(absl::StrCat("an imprint block needs 2 to ", kMaxImprintBins, " bins"));
  }
  if (public_images.dim() != 4 || public_images.size(0) < 2) {
    return absl::InvalidArgumentError("the imprint thresholds need >= 2 public images [N, C, H, W]");
  }
  ModelSpec spec = classifier.spec();
  spec.imprint_bins = bins;
  BIOFED_ASSIGN_OR_RETURN(Model model, BuildModel(spec, 0));
  return CallTorch("imprinting the model", [&]() -> absl::StatusOr<Model> {
    std::vector<NamedTensor> state;
    for (const NamedTensor& t : classifier.named_state()) state.push_back({"model." + t.name, t.tensor});
    const int64_t inputs = public_images[0].numel();
    const torch::Tensor brightness = public_images.flatten(1).to(torch::kFloat).mean(1);
    const torch::Tensor thresholds = Thresholds(brightness, bins).to(torch::kFloat);
    state.push_back({"imprint_bins.weight", torch::full({bins, inputs}, 1.0 / static_cast<double>(inputs))});
    state.push_back({"imprint_bins.bias", -thresholds});
    state.push_back({"imprint_out.weight", torch::full({inputs, bins}, 1.0 / static_cast<double>(bins))});
    state.push_back({"imprint_out.bias", torch::zeros({inputs})});
    BIOFED_RETURN_IF_ERROR(LoadState(model, state));
    return model;
  });
}

at::Tensor ImprintPublicImages(const Dataset& split, const Normalization& norm) {
  return NormalizedImages(split, norm, torch::arange(std::min<int64_t>(kImprintPublicImages, split.size())));
}

TensorTable ImprintBlockEntries(const Model& imprinted) {
  TensorTable entries;
  for (HostTensor& t : ModelStateTable(imprinted)) {
    if (t.name.rfind("imprint_", 0) == 0) entries.push_back(std::move(t));
  }
  return entries;
}

ImprintRecovery RecoverImprintedInputs(const at::Tensor& weight_gradient, const at::Tensor& bias_gradient,
                                       const at::Tensor& bias, int64_t max_images, at::IntArrayRef shape) {
  // Bins by threshold, ascending (bias descending): bin k sees every example
  // that bin k+1 sees, and those between their thresholds.
  const torch::Tensor order = std::get<1>(bias.to(torch::kDouble).cpu().sort(0, /*descending=*/true));
  const torch::Tensor dw = weight_gradient.to(torch::kDouble).cpu().index_select(0, order);
  const torch::Tensor db = bias_gradient.to(torch::kDouble).cpu().index_select(0, order);
  const int64_t n = db.size(0);
  const torch::Tensor dw_diff = dw - torch::cat({dw.slice(0, 1), torch::zeros_like(dw.slice(0, 0, 1))});
  const torch::Tensor db_diff = db - torch::cat({db.slice(0, 1), torch::zeros({1}, db.options())});
  const torch::Tensor strength = db_diff.abs();
  const double largest = n > 0 ? strength.max().item<double>() : 0.0;
  const torch::Tensor ranked = std::get<1>(strength.sort(0, /*descending=*/true));
  ImprintRecovery out;
  std::vector<torch::Tensor> images;
  for (int64_t i = 0; i < n && largest > 0; ++i) {
    const int64_t k = ranked[i].item<int64_t>();
    if (strength[k].item<double>() <= 1e-5 * largest) break;
    ++out.occupied;
    if (static_cast<int64_t>(images.size()) < max_images) images.push_back((dw_diff[k] / db_diff[k]).view(shape));
  }
  std::vector<int64_t> empty_shape = {0};
  empty_shape.insert(empty_shape.end(), shape.begin(), shape.end());
  out.images = images.empty() ? torch::zeros(empty_shape, torch::kFloat) : torch::stack(images).to(torch::kFloat);
  return out;
}

}  // namespace biofed
