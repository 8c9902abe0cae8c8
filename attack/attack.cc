#include "attack/attack.h"

#include <chrono>
#include <cmath>
#include <map>
#include <set>

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include "absl/strings/str_cat.h"
#include "attack/factored_cosine.h"
#include "attack/gradient_matching.h"
#include "attack/imprint.h"
#include "attack/label_inference.h"
#include "attack/reset_prediction.h"
#include "common/status_macros.h"
#include "common/torch_status.h"
#include "models/model_state.h"
#include "models/parameter_override.h"

namespace biofed {
namespace {

// Everything an attack needs, on the attack's device.
struct Setup {
  Model model;
  std::vector<torch::Tensor> target;  // aligned with model.parameters()
  torch::Tensor target_norm;          // ||concat(target)||
  torch::Tensor labels;               // int64 [B]
  bool labels_inferred = false;
  torch::Tensor lower, upper;         // pixel box in normalised space, [1, C, 1, 1]
  std::optional<std::vector<torch::Tensor>> factors;  // on device, per MechanismTargets
  int64_t batch = 1;                  // images to reconstruct: known, or estimated
  std::optional<BatchSizeEstimate> batch_estimate;
  // Per parameter, 1 where the entry takes part in the matching (only with
  // AttackConfig::ignore_largest_fraction); the target is already masked.
  std::vector<torch::Tensor> mask;
};

// The candidate's gradients restricted like the target.
std::vector<torch::Tensor> Masked(std::vector<torch::Tensor> grads, const Setup& s) {
  if (s.mask.empty()) return grads;
  for (size_t i = 0; i < grads.size(); ++i) grads[i] = grads[i] * s.mask[i];
  return grads;
}

// Leaves the largest `fraction` of each weight tensor's target entries out
// of the matching.
void MaskLargestEntries(Setup& s, double fraction) {
  std::set<std::string> weights;
  for (const NamedTensor& t : s.model.MechanismTargets()) weights.insert(t.name);
  const auto named = s.model.named_parameters();
  for (size_t i = 0; i < s.target.size(); ++i) {
    torch::Tensor keep = torch::ones_like(s.target[i]);
    const int64_t n = s.target[i].numel();
    const int64_t kept = n - static_cast<int64_t>(std::ceil(fraction * static_cast<double>(n)));
    if (weights.count(named[i].name) && kept < n) {
      const torch::Tensor magnitude = s.target[i].abs().flatten();
      if (kept == 0) {
        keep.zero_();
      } else {
        // Keep entries at or below the kept-th smallest magnitude.
        const torch::Tensor threshold = std::get<0>(magnitude.kthvalue(kept));
        keep = (s.target[i].abs() <= threshold).to(s.target[i].scalar_type());
      }
    }
    s.target[i] = s.target[i] * keep;
    s.mask.push_back(keep);
  }
  s.target_norm = ConcatenatedNorm(s.target);
}

// Leaves the reset weights (`reset`, per MechanismTargets) out of the
// matching: mask:oracle.
absl::Status MaskResetEntries(Setup& s, const std::vector<torch::Tensor>& reset) {
  std::map<std::string, size_t> target_index;
  const auto targets = s.model.MechanismTargets();
  if (reset.size() != targets.size()) return absl::InvalidArgumentError("wrong number of reset-mask tensors");
  for (size_t i = 0; i < targets.size(); ++i) target_index[targets[i].name] = i;
  const auto named = s.model.named_parameters();
  for (size_t i = 0; i < s.target.size(); ++i) {
    torch::Tensor keep = torch::ones_like(s.target[i]);
    if (auto t = target_index.find(named[i].name); t != target_index.end()) {
      const torch::Tensor r = reset[t->second].to(keep.device());
      if (r.sizes() != keep.sizes()) return absl::InvalidArgumentError("a reset-mask tensor has the wrong shape");
      keep = (~r.to(torch::kBool)).to(keep.scalar_type());
    }
    s.target[i] = s.target[i] * keep;
    s.mask.push_back(keep);
  }
  s.target_norm = ConcatenatedNorm(s.target);
  return absl::OkStatus();
}

torch::Tensor MeanPrediction(const Model& model, const InputShape& in, const torch::Device& device) {
  torch::NoGradGuard no_grad;
  torch::Generator generator = at::make_generator<at::CPUGeneratorImpl>(0x4d50);
  const torch::Tensor noise =
      torch::randn({64, in.channels, in.height, in.width}, generator, torch::kFloat).to(device);
  return torch::softmax(model.forward(noise), 1).mean(0);
}

absl::StatusOr<Setup> Prepare(const UpdateRecord& record, const AttackerKnowledge& knowledge,
                              const ThreatModel& threat, const AttackConfig& config, const torch::Device& device) {
  if (threat.fuzzy_factors_known && !knowledge.factors) {
    return absl::InvalidArgumentError("the threat model says FL factors are known, but none were given");
  }
  if (threat.labels_known && !knowledge.labels) {
    return absl::InvalidArgumentError("the threat model says labels are known, but none were given");
  }
  if (threat.fuzzy_factors_known && record.clients > 1) {
    return absl::InvalidArgumentError(
        "FL factors known applies to one client's update: the aggregate mixes K clients' own factors");
  }
  BIOFED_ASSIGN_OR_RETURN(Model model, BuildModel(record.spec, 0));
  BIOFED_RETURN_IF_ERROR(LoadState(model, record.global_state));
  Setup s;
  s.model = model;
  s.model.to(device);
  s.model.train(record.batchnorm_train_mode && !config.attacker_batchnorm_eval);
  s.batch = record.num_examples;
  BIOFED_ASSIGN_OR_RETURN(std::vector<torch::Tensor> target,
                          TargetGradients(s.model, record, threat.fuzzy_factors_known ? knowledge.factors : std::nullopt));
  for (auto& t : target) s.target.push_back(t.to(device));
  s.target_norm = ConcatenatedNorm(s.target);
  if (!threat.batch_size_known) {
    s.batch_estimate = EstimateBatchSize(s.model, s.target);
    s.batch = s.batch_estimate->batch_size;
  }
  if (threat.fuzzy_factors_known) {
    s.factors.emplace();
    for (const auto& f : *knowledge.factors) s.factors->push_back(f.to(device));
  }
  auto [lower, upper] = NormalizedBounds(record.norm);
  s.lower = lower.to(device);
  s.upper = upper.to(device);
  if (threat.labels_known) {
    if (static_cast<int64_t>(knowledge.labels->size()) != s.batch) {
      return absl::InvalidArgumentError("the given labels do not match the number of examples");
    }
    s.labels = torch::tensor(*knowledge.labels, torch::kLong).to(device);
  } else {
    const LayerParameters classifier = s.model.Classifier();
    if (!classifier.has_bias) return absl::InvalidArgumentError("label inference needs the classifier's bias gradient");
    const torch::Tensor weight_grad = s.target[classifier.weight], bias_grad = s.target[classifier.bias];
    const auto labels = InferLabels(weight_grad, bias_grad, MeanPrediction(s.model, record.spec.input, device), s.batch);
    s.labels = torch::tensor(labels, torch::kLong).to(device);
    s.labels_inferred = true;
  }
  return s;
}

// Adam on the sign of the image gradient, pixels boxed after every step, lr
// x0.1 at 3/8, 5/8 and 7/8; the best iterate by objective is kept on the
// device (no host read except every report_every iterations), or the last
// one with its objective when the config says so.
struct OptimizationOutcome {
  torch::Tensor best_images;
  torch::Tensor best_objective;
};

OptimizationOutcome OptimizeImages(const std::function<torch::Tensor(const torch::Tensor&)>& objective,
                                   torch::Tensor images, const Setup& s, const AttackConfig& config,
                                   int64_t restart, const AttackProgress& progress) {
  images.requires_grad_(true);
  torch::optim::Adam optimizer({images}, torch::optim::AdamOptions(config.lr));
  const int64_t n = config.iterations;
  const std::vector<int64_t> milestones = {n * 3 / 8, n * 5 / 8, n * 7 / 8};
  torch::Tensor best_objective = torch::full({}, std::numeric_limits<float>::infinity(), images.options().requires_grad(false));
  torch::Tensor best_images = images.detach().clone();
  for (int64_t it = 0; it < n; ++it) {
    for (int64_t m : milestones) {
      if (it == m) {
        for (auto& group : optimizer.param_groups()) {
          auto& options = static_cast<torch::optim::AdamOptions&>(group.options());
          options.lr(options.lr() * 0.1);
        }
      }
    }
    optimizer.zero_grad();
    const torch::Tensor value = objective(images);
    const torch::Tensor grad = torch::autograd::grad({value}, {images})[0];
    {
      torch::NoGradGuard no_grad;
      const torch::Tensor better = value.detach() < best_objective;
      best_objective = torch::where(better, value.detach(), best_objective);
      best_images = torch::where(better, images.detach(), best_images);
    }
    images.mutable_grad() = grad.sign();
    optimizer.step();
    {
      torch::NoGradGuard no_grad;
      images.copy_(torch::max(torch::min(images, s.upper), s.lower));
    }
    if (progress && config.report_every > 0 && ((it + 1) % config.report_every == 0 || it + 1 == n)) {
      progress(restart * n + it + 1, config.restarts * n, best_objective.item<double>());
    }
  }
  if (config.last_iterate) {
    const torch::Tensor last = images.detach().clone();
    return {last, objective(last).detach()};
  }
  return {best_images, best_objective};
}

torch::Tensor RandomImages(const Setup& s, const InputShape& in, uint64_t seed) {
  torch::Generator generator = at::make_generator<at::CPUGeneratorImpl>(seed);
  return torch::randn({s.batch, in.channels, in.height, in.width}, generator, torch::kFloat)
      .to(s.lower.device());
}

AttackResult RunGradientMatching(const UpdateRecord& record, const Setup& s, const AttackConfig& config,
                                 const AttackProgress& progress, bool replay_local_steps) {
  std::function<torch::Tensor(const torch::Tensor&)> objective;
  if (!replay_local_steps) {
    objective = [&](const torch::Tensor& x) {
      const torch::Tensor distance =
          s.mask.empty()
              ? CandidateCosineDistance(s.model, x, s.labels, s.target, s.target_norm)
              : CosineDistance(Masked(CandidateGradients(s.model, x, s.labels, /*create_graph=*/true), s), s.target,
                               s.target_norm);
      return distance + config.tv_weight * TotalVariation(x);
    };
  } else {
    objective = [&](const torch::Tensor& x) {
      // Replays the client's K local SGD steps on contiguous batches of the
      // candidate data and matches (w_0 - w_K) / lr.
      const auto named = s.model.named_parameters();
      const auto targets = s.model.MechanismTargets();
      std::map<std::string, size_t> factor_index;
      for (size_t i = 0; i < targets.size(); ++i) factor_index[targets[i].name] = i;
      std::vector<torch::Tensor> w0, w;
      for (const auto& p : named) w0.push_back(p.tensor.detach().clone().requires_grad_(true));
      w = w0;
      for (int64_t step = 0; step < record.local_steps; ++step) {
        const int64_t begin = (step * record.batch_size) % s.batch;
        const int64_t end = std::min(begin + record.batch_size, s.batch);
        std::map<std::string, torch::Tensor> replacement;
        for (size_t i = 0; i < named.size(); ++i) replacement[named[i].name] = w[i];
        torch::Tensor loss;
        {
          ParameterOverride override_params(s.model, replacement);
          loss = torch::nn::functional::cross_entropy(s.model.forward(x.slice(0, begin, end)),
                                                      s.labels.slice(0, begin, end));
        }
        const auto grads = torch::autograd::grad({loss}, w, {}, true, true);
        for (size_t i = 0; i < w.size(); ++i) {
          torch::Tensor g = grads[i];
          auto f = factor_index.find(named[i].name);
          if (s.factors && f != factor_index.end()) g = g * (*s.factors)[f->second];
          w[i] = w[i] - record.lr * g;
        }
      }
      std::vector<torch::Tensor> simulated;
      for (size_t i = 0; i < w.size(); ++i) simulated.push_back((w0[i] - w[i]) / record.lr);
      return CosineDistance(Masked(simulated, s), s.target, s.target_norm) + config.tv_weight * TotalVariation(x);
    };
  }
  AttackResult result;
  torch::Tensor best_objective;
  for (int64_t restart = 0; restart < config.restarts; ++restart) {
    const OptimizationOutcome outcome =
        OptimizeImages(objective, RandomImages(s, record.spec.input, config.seed + restart), s, config, restart, progress);
    if (!best_objective.defined() || outcome.best_objective.item<double>() < best_objective.item<double>()) {
      best_objective = outcome.best_objective;
      result.images = outcome.best_images;
    }
  }
  result.objective = best_objective.item<double>();
  result.objective_name = "1 - cosine(gradients) + TV";
  result.iterations = config.iterations * config.restarts;
  return result;
}

AttackResult RunDlg(const UpdateRecord& record, const Setup& s, const AttackConfig& config,
                    const AttackProgress& progress, bool optimise_labels) {
  const InputShape& in = record.spec.input;
  torch::Tensor images = RandomImages(s, in, config.seed).requires_grad_(true);
  // Seeded like the images (not from the process-wide generator), so DLG
  // is reproducible when attacks run in parallel threads.
  torch::Generator label_generator = at::make_generator<at::CPUGeneratorImpl>(config.seed ^ 0x4c4142454cULL);
  torch::Tensor label_logits = torch::randn({s.batch, record.spec.num_classes}, label_generator, torch::kFloat)
                                   .to(images.device())
                                   .requires_grad_(true);
  std::vector<torch::Tensor> variables = {images};
  if (optimise_labels) variables.push_back(label_logits);
  torch::optim::LBFGS optimizer(variables, torch::optim::LBFGSOptions(1.0).max_iter(20).history_size(100));
  torch::Tensor last;
  auto closure = [&]() -> torch::Tensor {
    optimizer.zero_grad();
    const torch::Tensor targets = optimise_labels ? torch::softmax(label_logits, 1) : s.labels;
    torch::Tensor value = SquaredDistance(Masked(CandidateGradients(s.model, images, targets, true), s), s.target);
    value.backward();
    last = value.detach();
    return value;
  };
  for (int64_t step = 0; step < config.iterations; ++step) {
    optimizer.step(closure);
    if (progress && config.report_every > 0 && ((step + 1) % config.report_every == 0 || step + 1 == config.iterations)) {
      progress(step + 1, config.iterations, last.item<double>());
    }
  }
  AttackResult result;
  {
    torch::NoGradGuard no_grad;
    result.images = torch::max(torch::min(images.detach(), s.upper), s.lower);
  }
  if (optimise_labels) {
    const torch::Tensor predicted = label_logits.detach().argmax(1).cpu();
    result.labels.assign(predicted.data_ptr<int64_t>(), predicted.data_ptr<int64_t>() + predicted.numel());
  }
  result.objective = last.defined() ? last.item<double>() : 0.0;
  result.objective_name = "squared L2 distance of gradients";
  result.iterations = config.iterations;
  return result;
}

absl::StatusOr<AttackResult> RunAnalytic(const UpdateRecord& record, const Setup& s) {
  if (s.batch != 1) return absl::InvalidArgumentError("analytic inversion needs batch size 1");
  const std::optional<LayerParameters> first = s.model.FirstLinearLayer();
  if (!first || !first->has_bias) {
    return absl::InvalidArgumentError("analytic inversion needs a first Linear layer with a bias on the input (the MLP)");
  }
  const torch::Tensor dw = s.target[first->weight];
  const torch::Tensor db = s.target[first->bias];
  const int64_t row = db.abs().argmax().item<int64_t>();
  AttackResult result;
  const InputShape& in = record.spec.input;
  result.images = (dw[row] / db[row]).view({1, in.channels, in.height, in.width}).detach();
  result.objective = 0;
  result.objective_name = "closed form (dL/dW_i / dL/db_i)";
  result.iterations = 0;
  return result;
}

// The imprint attack: the inputs read off the imprint bins' gradients in
// closed form; a reconstruction short of the batch is padded with the
// dataset mean (zeros, normalised). Boxed to the pixel range like the others.
absl::StatusOr<AttackResult> RunImprint(const UpdateRecord& record, const Setup& s) {
  if (record.spec.imprint_bins <= 0) {
    return absl::InvalidArgumentError(
        "the imprint attack needs the model a malicious server imprinted, and the record's model has no imprint "
        "block (the victim of `biofed attack --attack imprint` is sent one; a federation's server needs "
        "--malicious-imprint-bins, a simulation server_behaviour imprint)");
  }
  const LayerParameters bins = *s.model.FirstLinearLayer();
  const torch::Tensor sent_bias = s.model.parameters()[bins.bias].detach();
  const InputShape& in = record.spec.input;
  const ImprintRecovery recovery = RecoverImprintedInputs(s.target[bins.weight], s.target[bins.bias], sent_bias,
                                                          s.batch, {in.channels, in.height, in.width});
  torch::Tensor images = recovery.images.to(s.lower.device());
  if (images.size(0) < s.batch) {
    images = torch::cat({images, torch::zeros({s.batch - images.size(0), in.channels, in.height, in.width},
                                              images.options())});
  }
  AttackResult result;
  result.images = torch::max(torch::min(images, s.upper), s.lower);
  result.objective = static_cast<double>(recovery.occupied);
  result.objective_name = "imprint bins holding examples (closed form)";
  result.iterations = 0;
  return result;
}

// AttackResult::gradient_error_percent of `images` (CPU) with `labels`.
double GradientErrorPercent(const torch::Tensor& images, const std::vector<int64_t>& labels, const Setup& s) {
  const torch::Device device = s.target.front().device();
  const torch::Tensor targets = torch::tensor(labels, torch::kLong).to(device);
  const std::vector<torch::Tensor> grads =
      Masked(CandidateGradients(s.model, images.to(device), targets, /*create_graph=*/false), s);
  return 100.0 * CosineDistance(grads, s.target, s.target_norm).item<double>();
}

}  // namespace

absl::StatusOr<std::vector<torch::Tensor>> TargetGradients(
    const Model& model, const UpdateRecord& record,
    const std::optional<std::vector<torch::Tensor>>& factors) {
  std::map<std::string, torch::Tensor> sent;
  for (const NamedTensor& t : record.update) sent[t.name] = t.tensor;
  std::map<std::string, size_t> factor_index;
  const auto targets = model.MechanismTargets();
  for (size_t i = 0; i < targets.size(); ++i) factor_index[targets[i].name] = i;
  if (factors && factors->size() != targets.size()) {
    return absl::InvalidArgumentError("wrong number of FL factor tensors");
  }
  std::vector<torch::Tensor> out;
  for (const NamedTensor& p : model.named_parameters()) {
    auto it = sent.find(p.name);
    if (it == sent.end()) return absl::InvalidArgumentError(absl::StrCat("the update lacks '", p.name, "'"));
    if (it->second.sizes() != p.tensor.sizes()) {
      return absl::InvalidArgumentError(absl::StrCat("the update's '", p.name, "' has the wrong shape"));
    }
    torch::Tensor g = it->second.to(torch::kFloat);
    auto f = factor_index.find(p.name);
    if (factors && f != factor_index.end()) g = g / (*factors)[f->second].to(g.device());
    out.push_back(g);
  }
  return out;
}

absl::StatusOr<AttackResult> RunAttack(const UpdateRecord& record, const AttackerKnowledge& knowledge,
                                       const ThreatModel& threat, const AttackConfig& config,
                                       const torch::Device& device, const AttackProgress& progress) {
  BIOFED_RETURN_IF_ERROR(ValidateAttackSpec({config, threat}));
  const auto start = std::chrono::steady_clock::now();
  BIOFED_ASSIGN_OR_RETURN(Setup s, CallTorch("preparing the attack",
                                             [&] { return Prepare(record, knowledge, threat, config, device); }));
  if (config.ignore_largest_fraction > 0) {
    BIOFED_RETURN_IF_ERROR(CallTorch("masking the update", [&] { MaskLargestEntries(s, config.ignore_largest_fraction); }));
  }
  if (config.mask == UpdateMask::kOracle) {
    if (!knowledge.reset_mask) return absl::InvalidArgumentError("mask oracle needs the reset positions, none given");
    BIOFED_RETURN_IF_ERROR(CallTorch("masking the resets", [&] { return MaskResetEntries(s, *knowledge.reset_mask); }));
  }
  if (config.mask == UpdateMask::kPredicted) {
    if (!(config.mask_d_re > 0)) {
      return absl::InvalidArgumentError(
          "mask predicted needs the protocol's d_re: --mask-d-re (mask_d_re in a config)");
    }
    BIOFED_ASSIGN_OR_RETURN(const std::vector<torch::Tensor> predicted, PredictResetMask(record, config.mask_d_re,
                                                                                     config.mask_paper_law));
    BIOFED_RETURN_IF_ERROR(CallTorch("masking the predicted resets", [&] { return MaskResetEntries(s, predicted); }));
  }
  absl::StatusOr<AttackResult> result = CallTorch("attack " + AttackKindName(config.kind), [&]() -> absl::StatusOr<AttackResult> {
    switch (config.kind) {
      case AttackKind::kInvertingGradients: return RunGradientMatching(record, s, config, progress, false);
      // Without lr, K and the batch schedule the replay cannot be set up: the
      // attacker matches the update as one gradient of all its examples.
      case AttackKind::kFedAvg: {
        if (threat.local_hyperparameters_known && record.clients > 1) {
          return absl::InvalidArgumentError(
              "the FedAvg replay models one client's local steps, not an aggregate's: use local hyperparameters "
              "unknown");
        }
        AttackResult r = RunGradientMatching(record, s, config, progress, threat.local_hyperparameters_known);
        if (!threat.local_hyperparameters_known) r.objective_name += " (one-step model: local hyperparameters unknown)";
        return r;
      }
      case AttackKind::kDlg: return RunDlg(record, s, config, progress, !threat.labels_known);
      case AttackKind::kAnalytic: return RunAnalytic(record, s);
      case AttackKind::kImprint: return RunImprint(record, s);
    }
    return absl::InvalidArgumentError("unknown attack");
  });
  if (!result.ok()) return result.status();
  result->images = result->images.detach().to(torch::kCPU);
  if (result->labels.empty()) {
    const torch::Tensor labels = s.labels.cpu();
    result->labels.assign(labels.data_ptr<int64_t>(), labels.data_ptr<int64_t>() + labels.numel());
    result->labels_inferred = s.labels_inferred;
  } else {
    result->labels_inferred = true;
  }
  BIOFED_ASSIGN_OR_RETURN(result->gradient_error_percent, CallTorch("the final gradient match", [&] {
    return GradientErrorPercent(result->images, result->labels, s);
  }));
  result->batch_size_estimate = s.batch_estimate;
  result->seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

}  // namespace biofed
