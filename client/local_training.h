// A federated client's local work for one round, and the one producer of
// client updates in biofed (federations over either transport, sweeps and
// attack victims): load the global model, train on the client's partition
// (one step for FedSGD, E epochs for FedAvg) with the client's persistent
// biomod state, and produce what it sends: per parameter the pseudo-gradient
// (w_global - w_local) / lr or the gradient it applied (LocalTask::share),
// per float buffer its new value, plus the sample indices in step order (the
// audit manifest). gRPC-free, so simulations and tests drive it directly.
// Not thread-safe; one LocalTrainer per client.
#ifndef BIOFED_CLIENT_LOCAL_TRAINING_H_
#define BIOFED_CLIENT_LOCAL_TRAINING_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "absl/status/statusor.h"
#include "client/biomod_options.h"
#include "client/dp_sgd.h"
#include "client/step_runner.h"
#include "client/training_step.h"
#include "client/update_share.h"
#include "data/dataset.h"
#include "models/model.h"
#include "wire/host_tensor.h"

namespace biofed {

struct LocalData {
  std::shared_ptr<const Dataset> train;  // the whole training split, shared read-only
  std::vector<int64_t> indices;          // this client's samples in it
  Normalization norm;
};

struct LocalTask {
  int64_t round = 1;
  bool fedsgd = false;      // one step on one batch; else FedAvg
  double lr = 0.05;
  int64_t local_epochs = 1;
  int64_t batch_size = 32;  // 0: the whole partition in one batch
  // The partition's order: shuffled each round and epoch from the client's
  // seed, or as given (a victim whose batches the caller chose).
  bool shuffle = true;
  // What the client sends; the gradient and raw shares need exactly one step.
  SharedKind share = SharedKind::kPseudoGradient;
};

struct LocalResult {
  TensorTable update;
  int64_t num_examples = 0;  // examples seen (the aggregation weight)
  int64_t steps = 0;
  int64_t batch_size = 0;
  double train_loss = 0.0, train_accuracy = 0.0;
  std::vector<int64_t> sample_indices;  // dataset indices, in step order
};

class LocalTrainer {
 public:
  // WS is part of the model (`spec.split_gamma`); the client applies FL and
  // WR as `biomod` says. The client's private biomod state (FL factors, WR
  // stream) and its data order derive from `seed`. With `dp` enabled each
  // step's gradient is DP-SGD's (client/dp_sgd.h; its noise from `seed` too).
  LocalTrainer(ModelSpec spec, BiomodOptions biomod, uint64_t seed, torch::Device device, DpSgdOptions dp = {});

  // INVALID_ARGUMENT for a task out of its domain (the gradient share over
  // more than one step among them), FAILED_PRECONDITION without data or for
  // DP-SGD on a model with BatchNorm.
  absl::StatusOr<LocalResult> Train(const TensorTable& global_model, const LocalTask& task, const LocalData& data);

 private:
  // The batches of this round as dataset indices, in step order.
  std::vector<std::vector<int64_t>> Batches(const LocalTask& task, const LocalData& data) const;
  // Runs the steps; fills the result's counts, losses and sample order.
  absl::Status RunSteps(const std::vector<std::vector<int64_t>>& batches, const LocalData& data, LocalResult* result);
  // What the client sends, from the global model it started from and the
  // model after its steps.
  absl::StatusOr<TensorTable> SharedUpdate(const TensorTable& global, const LocalTask& task) const;

  ModelSpec spec_;
  BiomodOptions biomod_;
  DpSgdOptions dp_;
  uint64_t seed_;
  torch::Device device_;
  std::optional<Model> model_;
  std::unique_ptr<TrainingStep> step_;
  std::unique_ptr<StepRunner> runner_;  // steps of step_ (CUDA graphs on a GPU)
  double step_lr_ = 0.0;
  bool raw_kept_ = false;  // step_ keeps its raw gradients (the raw share)
};

}  // namespace biofed

#endif  // BIOFED_CLIENT_LOCAL_TRAINING_H_
