#include "sweep/sweep_training.h"

#include <memory>

#include <torch/torch.h>

#include "absl/strings/str_cat.h"
#include "client/seeds.h"
#include "common/status_macros.h"
#include "data/partition.h"
#include "experiment/federation_driver.h"
#include "models/model.h"
#include "server/model_evaluator.h"
#include "sweep/defense.h"
#include "wire/torch_bridge.h"

namespace biofed {
namespace {

constexpr uint64_t kClientStream = 0x5354;   // "ST": the training clients' private seeds
constexpr uint64_t kDefenseStream = 0x5344;  // "SD": their defense noise

}  // namespace

absl::StatusOr<BiomodOptions> SweepBiomod(const SweepConfig& c, const std::string& mechanisms) {
  BIOFED_ASSIGN_OR_RETURN(BiomodOptions biomod, ParseBiomod(mechanisms, c.mechanism_parameters));
  BIOFED_RETURN_IF_ERROR(ValidateBiomod(biomod));
  return biomod;
}

namespace {

// The job's federation: every client every round, one FedSGD step each, the
// job's defense on every update.
absl::StatusOr<FederationPlan> TrainingPlan(const SweepConfig& c, const TrainingJob& job, const DatasetSplits& data) {
  BIOFED_ASSIGN_OR_RETURN(BiomodOptions biomod, SweepBiomod(c, job.mechanisms));
  BIOFED_ASSIGN_OR_RETURN(Defense defense, ParseDefense(job.defense));
  BIOFED_ASSIGN_OR_RETURN(Architecture architecture, ParseArchitecture(job.model));
  const uint64_t seed = static_cast<uint64_t>(job.seed);
  FederationPlan plan;
  plan.name = job.Key();
  plan.spec = {architecture, {data.train.channels(), data.train.height(), data.train.width()}, data.train.num_classes,
               biomod.split_gamma()};
  BIOFED_ASSIGN_OR_RETURN(Model initial, BuildModel(plan.spec, seed));
  plan.initial_model = ModelStateTable(initial);
  plan.dataset = data.train.name;
  std::vector<int64_t> labels(data.train.labels.data_ptr<int64_t>(),
                              data.train.labels.data_ptr<int64_t>() + data.train.size());
  PartitionOptions partition_options;
  partition_options.num_clients = c.train_clients;
  partition_options.seed = seed;
  BIOFED_ASSIGN_OR_RETURN(Partition partition, PartitionDataset(labels, data.train.num_classes, partition_options));
  const auto train = std::make_shared<const Dataset>(data.train);
  for (int64_t k = 0; k < c.train_clients; ++k) {
    plan.clients.push_back({absl::StrCat("c", k), MixSeed(seed, kClientStream, k), biomod,
                            LocalData{train, partition[k], data.norm}});
  }
  plan.rounds = c.train_rounds;
  plan.device = c.device;
  plan.task.fedsgd = true;
  plan.task.lr = c.lr;
  plan.task.batch_size = c.train_batch;
  plan.evaluate_every = c.eval_every;
  BIOFED_ASSIGN_OR_RETURN(plan.evaluate,
                          MakeModelEvaluator(plan.spec, std::make_shared<const Dataset>(data.test), data.norm, c.device));
  const int64_t clients = c.train_clients;
  plan.defend = [defense, seed, clients](int64_t round, size_t k, TensorTable& update) {
    return ApplyDefense(defense, MixSeed(seed, kDefenseStream, static_cast<uint64_t>(round * clients) + k), update);
  };
  return plan;
}

}  // namespace

absl::StatusOr<TrainedFederation> TrainFederation(const SweepConfig& c, const TrainingJob& job,
                                                  const DatasetSplits& data, const std::atomic<bool>& stop) {
  BIOFED_ASSIGN_OR_RETURN(FederationPlan plan, TrainingPlan(c, job, data));
  BIOFED_ASSIGN_OR_RETURN(FederationRun run, RunFederation(plan, Transport::kInProcess, {}, &stop));
  TrainedFederation out;
  for (const RoundRow& row : run.rounds) {
    if (!EvaluatedRound(plan, row.round)) continue;
    out.accuracy_curve.push_back({row.round, row.test_accuracy});
    out.test_accuracy = row.test_accuracy;
    out.test_loss = row.test_loss;
  }
  out.model = std::move(run.model);
  return out;
}

}  // namespace biofed
