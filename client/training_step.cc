#include "client/training_step.h"

#include <torch/torch.h>

#include "absl/strings/str_cat.h"

namespace biofed {

absl::Status ValidateOptimizer(const OptimizerOptions& options) {
  if (options.name != "sgd" && options.name != "adam") {
    return absl::InvalidArgumentError(
        absl::StrCat("unknown optimizer '", options.name, "': expected sgd or adam"));
  }
  if (!(options.lr > 0) || !std::isfinite(options.lr)) {
    return absl::InvalidArgumentError(absl::StrCat("learning rate must be > 0, got ", options.lr));
  }
  if (!(options.momentum >= 0 && options.momentum < 1)) {
    return absl::InvalidArgumentError(absl::StrCat("momentum must be in [0, 1), got ", options.momentum));
  }
  if (options.momentum > 0 && options.name != "sgd") {
    return absl::InvalidArgumentError("momentum applies to sgd only");
  }
  if (!(options.weight_decay >= 0)) {
    return absl::InvalidArgumentError("weight decay must be >= 0");
  }
  return absl::OkStatus();
}

TrainingStep::TrainingStep(Model model, const BiomodOptions& biomod, const OptimizerOptions& optimizer, uint64_t seed,
                           const DpSgdOptions& dp)
    : model_(std::move(model)), optimizer_options_(optimizer), targets_(model_.MechanismTargets()) {
  if (dp.enabled()) dp_sgd_.emplace(dp, seed);
  if (biomod.fuzzy_learning_rates) fuzzy_.emplace(targets_, biomod.tau, seed);
  if (biomod.rejuvenation) rejuvenation_.emplace(targets_, biomod.d_re, biomod.variant, seed);
  wr_schedule_ = biomod.wr_every;
  if (optimizer.name == "adam") {
    optimizer_ = std::make_unique<torch::optim::Adam>(
        model_.parameters(), torch::optim::AdamOptions(optimizer.lr).weight_decay(optimizer.weight_decay));
  } else {
    optimizer_ = std::make_unique<torch::optim::SGD>(
        model_.parameters(), torch::optim::SGDOptions(optimizer.lr)
                                 .momentum(optimizer.momentum)
                                 .weight_decay(optimizer.weight_decay));
  }
}

void TrainingStep::KeepRawGradients(bool keep) {
  raw_gradients_.clear();
  if (!keep) return;
  for (const torch::Tensor& p : model_.parameters()) raw_gradients_.push_back(torch::zeros_like(p));
}

StepOutput TrainingStep::Step(const torch::Tensor& images, const torch::Tensor& labels) {
  optimizer_->zero_grad();
  torch::Tensor logits;
  torch::Tensor loss;
  if (dp_sgd_) {
    logits = dp_sgd_->Compute(model_, images, labels);
    torch::NoGradGuard no_grad;
    loss = torch::nn::functional::cross_entropy(logits, labels);
  } else {
    logits = model_.forward(images);
    loss = torch::nn::functional::cross_entropy(logits, labels);
    loss.backward();
  }
  if (!raw_gradients_.empty()) {
    torch::NoGradGuard no_grad;
    const std::vector<torch::Tensor> parameters = model_.parameters();
    for (size_t i = 0; i < parameters.size(); ++i) raw_gradients_[i].copy_(parameters[i].grad());
  }
  if (fuzzy_) fuzzy_->Apply();
  if (rejuvenation_ && wr_schedule_.AtStep(steps_)) rejuvenation_->Apply();
  ++steps_;
  optimizer_->step();
  torch::NoGradGuard no_grad;
  return {loss.detach(), logits.argmax(1).eq(labels).sum()};
}

}  // namespace biofed
