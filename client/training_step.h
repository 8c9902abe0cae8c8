// The local training step shared by `biofed train`, every federated client
// and the attacker's replay of a client: forward (WS inside the model),
// mean cross-entropy, backward (or DP-SGD's clipped and noised gradient),
// FL, WR, optimizer step, in that order (the
// authors' order: WR resets weights before the step applies the gradient;
// WR at the steps its schedule names, BiomodOptions::wr_every, a round's
// start or end left to the caller through rejuvenation()).
// The private biomod state (FL factors, WR stream) comes from the client's
// seed. No host synchronisation inside Step(). Not thread-safe.
#ifndef BIOFED_CLIENT_TRAINING_STEP_H_
#define BIOFED_CLIENT_TRAINING_STEP_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include <torch/optim/optimizer.h>

#include "absl/status/statusor.h"
#include "client/biomod_options.h"
#include "client/dp_sgd.h"
#include "client/fuzzy_learning_rates.h"
#include "client/weight_rejuvenation.h"
#include "models/model.h"

namespace biofed {

struct OptimizerOptions {
  std::string name = "sgd";  // "sgd" or "adam"
  double lr = 0.01;
  double momentum = 0.0;     // SGD only
  double weight_decay = 0.0;
};

absl::Status ValidateOptimizer(const OptimizerOptions& options);

struct StepOutput {
  torch::Tensor loss;     // 0-dim, on the model's device
  torch::Tensor correct;  // 0-dim int64, on the model's device
};

class TrainingStep {
 public:
  // `model` is trained in place (callers pass a clone when they need the
  // original). WS must already be part of the model (BiomodOptions::
  // split_gamma() at construction); FL and WR are set up here from `seed`.
  // With `dp` enabled the batch gradient is DP-SGD's (client/dp_sgd.h; the
  // caller checks CheckDpSgdApplies first), FL and WR act on it.
  TrainingStep(Model model, const BiomodOptions& biomod, const OptimizerOptions& optimizer, uint64_t seed,
               const DpSgdOptions& dp = {});

  StepOutput Step(const torch::Tensor& images, const torch::Tensor& labels);

  // With `keep`, every Step() also copies the batch gradient, before FL and
  // WR touch anything, into raw_gradients() (aligned with the model's
  // parameters; allocated here, so a CUDA graph captured later copies into
  // fixed buffers). Without, nothing is copied and the buffers are freed.
  void KeepRawGradients(bool keep);
  const std::vector<torch::Tensor>& raw_gradients() const { return raw_gradients_; }

  const Model& model() const { return model_; }
  const OptimizerOptions& optimizer_options() const { return optimizer_options_; }
  const FuzzyLearningRates* fuzzy() const { return fuzzy_ ? &*fuzzy_ : nullptr; }
  WeightRejuvenation* rejuvenation() { return rejuvenation_ ? &*rejuvenation_ : nullptr; }
  const std::vector<NamedTensor>& targets() const { return targets_; }
  bool dp_sgd() const { return dp_sgd_.has_value(); }
  // Whether Step() runs WR at some steps and not at others (a schedule of
  // every N > 1 steps): such a step cannot be captured once and replayed.
  bool rejuvenation_varies_by_step() const { return rejuvenation_ && wr_schedule_.every > 1; }

 private:
  Model model_;
  OptimizerOptions optimizer_options_;
  std::vector<NamedTensor> targets_;
  std::optional<FuzzyLearningRates> fuzzy_;
  std::optional<WeightRejuvenation> rejuvenation_;
  RejuvenationSchedule wr_schedule_;  // inside Step() for kSteps; the caller's for a round's start or end
  int64_t steps_ = 0;                 // Step() calls so far
  std::optional<DpSgdGradient> dp_sgd_;
  std::unique_ptr<torch::optim::Optimizer> optimizer_;
  std::vector<torch::Tensor> raw_gradients_;  // empty unless kept
};

}  // namespace biofed

#endif  // BIOFED_CLIENT_TRAINING_STEP_H_
