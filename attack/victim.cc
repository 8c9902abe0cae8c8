#include "attack/victim.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include "client/fuzzy_learning_rates.h"
#include "client/seeds.h"
#include "client/training_step.h"
#include "common/status_macros.h"
#include "common/torch_status.h"
#include "models/model_state.h"

namespace biofed {
namespace {

constexpr uint64_t kVictimStream = 0x5643;  // "VC"

absl::Status TrainGlobal(Model& model, const VictimOptions& o, const DatasetSplits& data) {
  if (o.trained_steps <= 0) return absl::OkStatus();
  // The federation's own biomod state trains the victim model.
  TrainingStep step(model, o.biomod, OptimizerOptions{"sgd", o.train_lr, 0.9, 0},
                    MixSeed(o.seed, kVictimStream, 1));
  torch::Generator generator = at::make_generator<at::CPUGeneratorImpl>(MixSeed(o.seed, kVictimStream, 2));
  for (int64_t s = 0; s < o.trained_steps; ++s) {
    const torch::Tensor indices = torch::randint(data.train.size(), {100}, generator, torch::kLong);
    step.Step(NormalizedImages(data.train, data.norm, indices), data.train.labels.index_select(0, indices));
  }
  return absl::OkStatus();
}

}  // namespace

std::vector<torch::Tensor> ClientFuzzyFactors(const ModelSpec& spec, double tau, uint64_t client_seed) {
  const Model model = BuildModel(spec, 0).value();
  std::vector<torch::Tensor> out;
  const auto targets = model.MechanismTargets();
  for (size_t i = 0; i < targets.size(); ++i) {
    out.push_back(DrawFuzzyFactors(targets[i].tensor.sizes(), tau, client_seed, i));
  }
  return out;
}

absl::StatusOr<CaptureFile> MakeVictimCapture(const VictimOptions& o, const DatasetSplits& data) {
  BIOFED_RETURN_IF_ERROR(ValidateBiomod(o.biomod));
  if (o.batch_size < 1 || o.local_steps < 1 || !(o.client_lr > 0)) {
    return absl::InvalidArgumentError("victim batch size and local steps must be >= 1, lr > 0");
  }
  const int64_t examples = o.share == SharedKind::kGradient ? o.batch_size : o.batch_size * o.local_steps;
  if (examples > data.test.size()) return absl::InvalidArgumentError("more victim examples than test images");
  ModelSpec spec;
  spec.architecture = o.architecture;
  spec.input = {data.train.channels(), data.train.height(), data.train.width()};
  spec.num_classes = data.train.num_classes;
  spec.split_gamma = o.biomod.split_gamma();
  if (!o.initial_state.empty() && o.trained_steps > 0) {
    return absl::InvalidArgumentError("a victim takes either a given global state or trained steps, not both");
  }
  BIOFED_ASSIGN_OR_RETURN(Model global, BuildModel(spec, o.seed));
  return CallTorch("building the victim", [&]() -> absl::StatusOr<CaptureFile> {
    if (o.initial_state.empty()) {
      BIOFED_RETURN_IF_ERROR(TrainGlobal(global, o, data));
    } else {
      BIOFED_RETURN_IF_ERROR(LoadState(global, o.initial_state));
    }
    CaptureFile capture;
    UpdateRecord& r = capture.record;
    r.spec = spec;
    r.global_state = CopyState(global);
    // The client's local data: `examples` test images chosen by the seed.
    torch::Generator generator = at::make_generator<at::CPUGeneratorImpl>(MixSeed(o.seed, kVictimStream, 3));
    const torch::Tensor indices = torch::randperm(data.test.size(), generator, torch::kLong).slice(0, 0, examples);
    const torch::Tensor images = NormalizedImages(data.test, data.norm, indices);
    const torch::Tensor labels = data.test.labels.index_select(0, indices);
    const uint64_t client_seed = MixSeed(o.seed, kVictimStream, 4);
    Model client = global.Clone();
    client.train(true);
    TrainingStep step(client, o.biomod, OptimizerOptions{"sgd", o.client_lr, 0, 0}, client_seed);
    if (o.share == SharedKind::kGradient) {
      step.Step(images, labels);
      for (const NamedTensor& p : client.named_parameters()) r.update.push_back({p.name, p.tensor.grad().detach().clone()});
    } else {
      for (int64_t s = 0; s < o.local_steps; ++s) {
        const int64_t begin = s * o.batch_size;
        step.Step(images.slice(0, begin, begin + o.batch_size), labels.slice(0, begin, begin + o.batch_size));
      }
      const auto before = global.named_parameters();
      const auto after = client.named_parameters();
      for (size_t i = 0; i < before.size(); ++i) {
        r.update.push_back({before[i].name, ((before[i].tensor - after[i].tensor) / o.client_lr).detach()});
      }
    }
    r.kind = o.share;
    r.lr = o.client_lr;
    r.local_steps = o.share == SharedKind::kGradient ? 1 : o.local_steps;
    r.batch_size = o.batch_size;
    r.num_examples = examples;
    r.batchnorm_train_mode = true;
    r.norm = data.norm;
    r.dataset = data.train.name;
    AuditRecord audit;
    audit.images = images;
    audit.labels = labels;
    audit.client_seed = client_seed;
    audit.tau = o.biomod.fuzzy_learning_rates ? o.biomod.tau : 0.0;
    audit.biomod = BiomodName(o.biomod);
    capture.audit = audit;
    return capture;
  });
}

}  // namespace biofed
