#include "client/dp_sgd.h"

#include <ATen/CPUGeneratorImpl.h>

#include <cmath>

#include "absl/strings/str_cat.h"
#include "client/seeds.h"

namespace biofed {
namespace {

constexpr uint64_t kDpNoiseStream = 0x4450;  // "DP"

}  // namespace

absl::Status ValidateDpSgd(const DpSgdOptions& options) {
  if (!(options.clip >= 0) || !std::isfinite(options.clip)) {
    return absl::InvalidArgumentError(absl::StrCat("DP-SGD clip norm must be > 0, got ", options.clip));
  }
  if (!(options.noise_multiplier >= 0) || !std::isfinite(options.noise_multiplier)) {
    return absl::InvalidArgumentError(
        absl::StrCat("DP-SGD noise multiplier must be >= 0, got ", options.noise_multiplier));
  }
  return absl::OkStatus();
}

absl::Status CheckDpSgdApplies(const Model& model) {
  if (model.named_state().size() != model.named_parameters().size()) {
    return absl::FailedPreconditionError(
        absl::StrCat("DP-SGD needs a model without BatchNorm (its statistics mix examples and are released unnoised); ",
                     ArchitectureName(model.spec().architecture), " has BatchNorm"));
  }
  return absl::OkStatus();
}

DpSgdGradient::DpSgdGradient(DpSgdOptions options, uint64_t seed)
    : options_(options), noise_(at::make_generator<at::CPUGeneratorImpl>(MixSeed(seed, kDpNoiseStream, 0))) {}

std::vector<torch::Tensor> DpSgdGradient::ClippedSum(const Model& model, const torch::Tensor& images,
                                                     const torch::Tensor& labels, torch::Tensor* logits) {
  const std::vector<torch::Tensor> parameters = model.parameters();
  std::vector<torch::Tensor> sum;
  for (const auto& p : parameters) sum.push_back(torch::zeros_like(p));
  std::vector<torch::Tensor> all_logits;
  const int64_t batch = images.size(0);
  for (int64_t i = 0; i < batch; ++i) {
    const torch::Tensor out = model.forward(images.narrow(0, i, 1));
    const torch::Tensor loss = torch::nn::functional::cross_entropy(out, labels.narrow(0, i, 1));
    const std::vector<torch::Tensor> grads = torch::autograd::grad({loss}, parameters);
    torch::Tensor squared = torch::zeros({}, grads.front().options());
    for (const auto& g : grads) squared = squared + g.square().sum();
    // min(1, C / ||g||) without a branch on the host; ||g|| = 0 gives 1.
    const torch::Tensor scale = (options_.clip / squared.sqrt()).clamp_max(1.0);
    for (size_t k = 0; k < grads.size(); ++k) sum[k].add_(grads[k] * scale);
    all_logits.push_back(out.detach());
  }
  if (logits != nullptr) *logits = torch::cat(all_logits);
  return sum;
}

torch::Tensor DpSgdGradient::Compute(const Model& model, const torch::Tensor& images, const torch::Tensor& labels) {
  torch::Tensor logits;
  std::vector<torch::Tensor> sum = ClippedSum(model, images, labels, &logits);
  const std::vector<torch::Tensor> parameters = model.parameters();
  const double noise_std = options_.noise_multiplier * options_.clip;
  const double batch = static_cast<double>(images.size(0));
  torch::NoGradGuard no_grad;
  for (size_t k = 0; k < parameters.size(); ++k) {
    torch::Tensor g = sum[k];
    if (noise_std > 0) {
      // Drawn on the host from the client's stream, the same on every device.
      g.add_(torch::randn(g.sizes(), noise_, torch::kFloat).to(g.device()), noise_std);
    }
    g.div_(batch);
    torch::Tensor& grad = parameters[k].mutable_grad();
    if (grad.defined()) {
      grad.copy_(g);
    } else {
      grad = g;
    }
  }
  return logits;
}

}  // namespace biofed
