#include "client/local_training.h"

#include <map>
#include <numeric>

#include <torch/torch.h>

#include "absl/strings/str_cat.h"
#include "client/centralized_training.h"
#include "client/seeds.h"
#include "common/status_macros.h"
#include "common/torch_status.h"
#include "models/model_state.h"
#include "wire/torch_bridge.h"

namespace biofed {
namespace {

constexpr uint64_t kLocalOrderStream = 0x4c4f;  // "LO"

}  // namespace

LocalTrainer::LocalTrainer(ModelSpec spec, BiomodOptions biomod, uint64_t seed, torch::Device device, DpSgdOptions dp)
    : spec_(spec), biomod_(biomod), dp_(dp), seed_(seed), device_(device) {}

std::vector<std::vector<int64_t>> LocalTrainer::Batches(const LocalTask& task, const LocalData& data) const {
  const int64_t n = static_cast<int64_t>(data.indices.size());
  const int64_t batch = task.batch_size == 0 ? n : std::min(task.batch_size, n);
  std::vector<std::vector<int64_t>> batches;
  const int64_t epochs = task.fedsgd ? 1 : task.local_epochs;
  for (int64_t e = 0; e < epochs; ++e) {
    std::vector<int64_t> order(static_cast<size_t>(n));
    std::iota(order.begin(), order.end(), 0);
    if (task.shuffle) order = EpochOrder(n, MixSeed(seed_, kLocalOrderStream, static_cast<uint64_t>(task.round)), e);
    for (int64_t begin = 0; begin < n; begin += batch) {
      std::vector<int64_t> b;
      for (int64_t i = begin; i < std::min(begin + batch, n); ++i) b.push_back(data.indices[order[i]]);
      batches.push_back(std::move(b));
      if (task.fedsgd) break;
    }
  }
  return batches;
}

absl::Status LocalTrainer::RunSteps(const std::vector<std::vector<int64_t>>& batches, const LocalData& data,
                                    LocalResult* result) {
  torch::Tensor loss_sum = torch::zeros({}, torch::TensorOptions().device(device_));
  torch::Tensor correct = torch::zeros({}, torch::TensorOptions().dtype(torch::kLong).device(device_));
  for (const std::vector<int64_t>& b : batches) {
    const torch::Tensor idx = torch::tensor(b, torch::kLong);
    const torch::Tensor x = NormalizedImages(*data.train, data.norm, idx).to(device_);
    const torch::Tensor y = data.train->labels.index_select(0, idx).to(device_);
    const StepOutput out = runner_->Step(x, y);
    loss_sum += out.loss * static_cast<double>(b.size());
    correct += out.correct;
    result->num_examples += static_cast<int64_t>(b.size());
    result->sample_indices.insert(result->sample_indices.end(), b.begin(), b.end());
  }
  result->steps = static_cast<int64_t>(batches.size());
  result->train_loss = loss_sum.item<double>() / static_cast<double>(result->num_examples);
  result->train_accuracy = static_cast<double>(correct.item<int64_t>()) / static_cast<double>(result->num_examples);
  return absl::OkStatus();
}

// Each float tensor of the update is computed straight into its host
// bytes: the pseudo-gradient (global - trained) / lr from the global model's
// own host bytes (no copy of either), the gradient copied once; buffers are
// copied once (docs/architecture.md counts the copies).
absl::StatusOr<TensorTable> LocalTrainer::SharedUpdate(const TensorTable& global, const LocalTask& task) const {
  std::map<std::string, const HostTensor*> global_by_name;
  for (const HostTensor& t : global) global_by_name[t.name] = &t;
  std::map<std::string, torch::Tensor> parameters, raw;
  const std::vector<NamedTensor> named = model_->named_parameters();
  for (size_t i = 0; i < named.size(); ++i) {
    parameters[named[i].name] = named[i].tensor;
    if (task.share == SharedKind::kRaw) raw[named[i].name] = step_->raw_gradients().at(i);
  }
  TensorTable update;
  torch::NoGradGuard no_grad;
  for (const NamedTensor& s : model_->named_state()) {
    if (!s.tensor.is_floating_point()) continue;
    auto parameter = parameters.find(s.name);
    if (parameter == parameters.end()) {
      BIOFED_ASSIGN_OR_RETURN(HostTensor buffer, ToHostTensor(s.name, s.tensor, TensorRole::kBuffer));
      update.push_back(std::move(buffer));
      continue;
    }
    BIOFED_ASSIGN_OR_RETURN(HostTensor shared, UninitializedHostTensor(s.name, s.tensor, TensorRole::kParameter));
    torch::Tensor out = WritableTorchView(shared);
    if (task.share == SharedKind::kGradient) {
      out.copy_(parameter->second.grad());
    } else if (task.share == SharedKind::kRaw) {
      out.copy_(raw.at(s.name));
    } else {
      torch::sub_out(out, TorchView(*global_by_name.at(s.name)), parameter->second.detach().to(torch::kCPU));
      out.div_(task.lr);
    }
    update.push_back(std::move(shared));
  }
  return update;
}

absl::StatusOr<LocalResult> LocalTrainer::Train(const TensorTable& global, const LocalTask& task,
                                                const LocalData& data) {
  if (data.train == nullptr || data.indices.empty()) return absl::FailedPreconditionError("the client has no data");
  if (!(task.lr > 0) || task.local_epochs < 1 || task.batch_size < 0) {
    return absl::InvalidArgumentError("task needs lr > 0, local epochs >= 1, batch size >= 0");
  }
  if (!model_) {
    BIOFED_ASSIGN_OR_RETURN(Model built, BuildModel(spec_, 0));
    if (dp_.enabled()) BIOFED_RETURN_IF_ERROR(CheckDpSgdApplies(built));
    built.to(device_);
    model_ = built;
  }
  return CallTorch("local training", [&]() -> absl::StatusOr<LocalResult> {
    BIOFED_RETURN_IF_ERROR(LoadState(*model_, NamedTensorViews(global)));
    if (step_ == nullptr || step_lr_ != task.lr) {
      // Persistent across rounds: WR's stream continues, FL's factors stay.
      runner_.reset();
      step_ = std::make_unique<TrainingStep>(*model_, biomod_, OptimizerOptions{"sgd", task.lr, 0.0, 0.0}, seed_, dp_);
      runner_ = std::make_unique<StepRunner>(*step_);
      step_lr_ = task.lr;
      raw_kept_ = false;
    }
    if (const bool keep = task.share == SharedKind::kRaw; keep != raw_kept_) {
      runner_.reset();  // a captured graph would copy into the old buffers, or not at all
      step_->KeepRawGradients(keep);
      runner_ = std::make_unique<StepRunner>(*step_);
      raw_kept_ = keep;
    }
    model_->train(true);
    const std::vector<std::vector<int64_t>> batches = Batches(task, data);
    if (IsOneStepShare(task.share) && batches.size() != 1) {
      return absl::InvalidArgumentError(absl::StrCat("the ", SharedKindName(task.share),
                                                     " share is the gradient of one step; this task takes ",
                                                     batches.size()));
    }
    LocalResult result;
    result.batch_size = static_cast<int64_t>(batches.front().size());
    WeightRejuvenation* wr = step_->rejuvenation();
    using Schedule = RejuvenationSchedule::Kind;
    if (wr != nullptr && biomod_.wr_every.kind == Schedule::kRoundStart) wr->Apply();
    BIOFED_RETURN_IF_ERROR(RunSteps(batches, data, &result));
    BIOFED_ASSIGN_OR_RETURN(result.update, SharedUpdate(global, task));
    if (wr != nullptr && biomod_.wr_every.kind == Schedule::kRoundEnd) wr->Apply();
    return result;
  });
}

}  // namespace biofed
