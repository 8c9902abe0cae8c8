#include "attack/victim.h"

#include <algorithm>

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include "attack/imprint.h"
#include "client/fuzzy_learning_rates.h"
#include "client/local_training.h"
#include "client/seeds.h"
#include "client/training_step.h"
#include "common/status_macros.h"
#include "common/torch_status.h"
#include "models/model_state.h"
#include "wire/torch_bridge.h"

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

// The client's update as the record carries it: the parameters' entries.
std::vector<NamedTensor> ParameterEntries(const TensorTable& update) {
  std::vector<NamedTensor> out;
  for (const HostTensor& t : update) {
    if (t.role == TensorRole::kParameter) out.push_back({t.name, ToTorch(t)});
  }
  return out;
}

// The victim client's local work, by the client code every federation runs:
// one step for the gradient and raw shares, else K steps of batch_size in the given
// order.
absl::StatusOr<LocalResult> ClientUpdate(const VictimOptions& o, const ModelSpec& spec, const Model& global,
                                         const DatasetSplits& data, const std::vector<int64_t>& indices,
                                         uint64_t client_seed) {
  LocalTrainer client(spec, o.biomod, client_seed, torch::kCPU, o.dp);
  LocalTask task;
  task.fedsgd = IsOneStepShare(o.share);
  task.lr = o.client_lr;
  task.batch_size = o.batch_size;
  task.shuffle = false;
  task.share = o.share;
  return client.Train(ModelStateTable(global), task,
                      LocalData{std::make_shared<const Dataset>(data.test), indices, data.norm});
}

// The model the server sends the victim: the global model of `spec`
// (untrained, trained, or the state given), behind an imprint block when
// the server is malicious.
absl::StatusOr<Model> ModelSent(const VictimOptions& o, const ModelSpec& spec, const DatasetSplits& data) {
  BIOFED_ASSIGN_OR_RETURN(Model global, BuildModel(spec, o.seed));
  if (o.initial_state.empty()) {
    BIOFED_RETURN_IF_ERROR(TrainGlobal(global, o, data));
  } else {
    BIOFED_RETURN_IF_ERROR(LoadState(global, o.initial_state));
  }
  if (!o.server.malicious()) return global;
  return ImprintedModel(global, o.server.imprint_bins, ImprintPublicImages(data.train, data.norm));
}

struct AggregateUpdate {
  std::vector<NamedTensor> update;
  int64_t steps = 0;
};

// What the attacker sees of the round: the one client's update, or the mean
// of the K clients' (client 0 keeps the seed a single victim has, so K = 1
// is the single victim).
absl::StatusOr<AggregateUpdate> RoundUpdate(const VictimOptions& o, const ModelSpec& spec, const Model& global,
                                            const DatasetSplits& data, const torch::Tensor& chosen,
                                            uint64_t first_client_seed) {
  const int64_t examples = chosen.size(0) / o.clients;
  AggregateUpdate out;
  for (int64_t k = 0; k < o.clients; ++k) {
    const torch::Tensor mine = chosen.slice(0, k * examples, (k + 1) * examples);
    const std::vector<int64_t> indices(mine.data_ptr<int64_t>(), mine.data_ptr<int64_t>() + examples);
    const uint64_t seed = k == 0 ? first_client_seed : MixSeed(first_client_seed, kVictimStream, k);
    BIOFED_ASSIGN_OR_RETURN(LocalResult sent, ClientUpdate(o, spec, global, data, indices, seed));
    std::vector<NamedTensor> update = ParameterEntries(sent.update);
    if (k == 0) {
      out.update = std::move(update);
      out.steps = sent.steps;
      continue;
    }
    for (size_t i = 0; i < update.size(); ++i) out.update[i].tensor = out.update[i].tensor + update[i].tensor;
  }
  if (o.clients > 1) {
    for (NamedTensor& t : out.update) t.tensor = t.tensor / static_cast<double>(o.clients);
  }
  return out;
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

absl::StatusOr<std::vector<torch::Tensor>> ClientResetMask(const UpdateRecord& record, const AuditRecord& audit) {
  BIOFED_ASSIGN_OR_RETURN(const BiomodOptions ran, ParseBiomod(audit.biomod));
  // Nothing was reset, or WR ran only after the update was taken.
  if (!ran.rejuvenation || audit.wr_every.kind == RejuvenationSchedule::Kind::kRoundEnd) {
    BIOFED_ASSIGN_OR_RETURN(const Model model, BuildModel(record.spec, 0));
    std::vector<torch::Tensor> none;
    for (const NamedTensor& t : model.MechanismTargets()) none.push_back(torch::zeros(t.tensor.sizes(), torch::kBool));
    return none;
  }
  if (!(audit.wr_d_re > 0)) {
    return absl::FailedPreconditionError(
        "the audit does not carry WR's parameters: the resets are replayable only for a fresh client's single step "
        "(a victim of attack or sweep, with WR)");
  }
  return CallTorch("replaying the client's WR pass", [&]() -> absl::StatusOr<std::vector<torch::Tensor>> {
    BIOFED_ASSIGN_OR_RETURN(Model model, BuildModel(record.spec, 0));
    BIOFED_RETURN_IF_ERROR(LoadState(model, record.global_state));
    const std::vector<NamedTensor> targets = model.MechanismTargets();
    std::vector<torch::Tensor> before;
    for (const NamedTensor& t : targets) before.push_back(t.tensor.detach().clone());
    WeightRejuvenation(targets, audit.wr_d_re, audit.wr_variant, audit.client_seed).Apply();
    std::vector<torch::Tensor> reset;
    for (size_t i = 0; i < targets.size(); ++i) reset.push_back(targets[i].tensor.detach() != before[i]);
    return reset;
  });
}

absl::StatusOr<CaptureFile> MakeVictimCapture(const VictimOptions& o, const DatasetSplits& data) {
  BIOFED_RETURN_IF_ERROR(ValidateBiomod(o.biomod));
  if (o.batch_size < 1 || o.local_steps < 1 || !(o.client_lr > 0)) {
    return absl::InvalidArgumentError("victim batch size and local steps must be >= 1, lr > 0");
  }
  if (o.clients < 1) return absl::InvalidArgumentError("a victim round needs >= 1 client");
  const int64_t examples = IsOneStepShare(o.share) ? o.batch_size : o.batch_size * o.local_steps;
  if (examples * o.clients > data.test.size()) {
    return absl::InvalidArgumentError("more victim examples than test images");
  }
  ModelSpec spec;
  spec.architecture = o.architecture;
  spec.input = {data.train.channels(), data.train.height(), data.train.width()};
  spec.num_classes = data.train.num_classes;
  spec.split_gamma = o.biomod.split_gamma();
  if (o.trained_steps > 0 && o.biomod.rejuvenation && o.biomod.wr_every.kind != RejuvenationSchedule::Kind::kSteps) {
    return absl::InvalidArgumentError("the victim's pre-training steps are centralised: WR once per round "
                                      "(round-start, round-end) does not apply to them (train the victim's global "
                                      "model in a sweep's federation, or use wr_every N)");
  }
  if (!o.initial_state.empty() && o.trained_steps > 0) {
    return absl::InvalidArgumentError("a victim takes either a given global state or trained steps, not both");
  }
  return CallTorch("building the victim", [&]() -> absl::StatusOr<CaptureFile> {
    BIOFED_ASSIGN_OR_RETURN(const Model global, ModelSent(o, spec, data));
    spec = global.spec();
    // Each client's local data: `examples` test images chosen by the seed,
    // client k the k-th run of them.
    torch::Generator generator = at::make_generator<at::CPUGeneratorImpl>(MixSeed(o.seed, kVictimStream, 3));
    const int64_t total = examples * o.clients;
    const torch::Tensor chosen = torch::randperm(data.test.size(), generator, torch::kLong).slice(0, 0, total);
    const uint64_t client_seed = MixSeed(o.seed, kVictimStream, 4);
    BIOFED_ASSIGN_OR_RETURN(AggregateUpdate sent, RoundUpdate(o, spec, global, data, chosen, client_seed));
    CaptureFile capture;
    UpdateRecord& r = capture.record;
    r.spec = spec;
    r.global_state = CopyState(global);
    r.update = std::move(sent.update);
    r.kind = o.share;
    r.lr = o.client_lr;
    r.local_steps = sent.steps;
    r.batch_size = o.batch_size;
    r.num_examples = total;
    r.clients = o.clients;
    r.batchnorm_train_mode = true;
    r.norm = data.norm;
    r.dataset = data.train.name;
    AuditRecord audit;
    audit.images = NormalizedImages(data.test, data.norm, chosen);
    audit.labels = data.test.labels.index_select(0, chosen);
    const torch::Tensor indices = chosen.to(torch::kLong).contiguous().cpu();
    audit.sample_indices.assign(indices.data_ptr<int64_t>(), indices.data_ptr<int64_t>() + indices.numel());
    audit.client_seed = client_seed;
    audit.tau = o.biomod.fuzzy_learning_rates ? o.biomod.tau : 0.0;
    audit.biomod = BiomodName(o.biomod);
    if (o.biomod.rejuvenation && o.clients == 1 && sent.steps == 1) {
      audit.wr_d_re = o.biomod.d_re;
      audit.wr_variant = o.biomod.variant;
      audit.wr_every = o.biomod.wr_every;
    }
    capture.audit = audit;
    return capture;
  });
}

}  // namespace biofed
