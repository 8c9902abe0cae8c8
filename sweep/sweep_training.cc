#include "sweep/sweep_training.h"

#include <algorithm>
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
#include "sweep/sweep_mechanisms.h"
#include "wire/torch_bridge.h"

namespace biofed {
namespace {

constexpr uint64_t kClientStream = 0x5354;   // "ST": the training clients' private seeds
constexpr uint64_t kDefenseStream = 0x5344;  // "SD": their defense noise

}  // namespace

absl::StatusOr<BiomodOptions> SweepBiomod(const SweepConfig& c, const std::string& mechanisms) {
  BIOFED_ASSIGN_OR_RETURN(BiomodOptions biomod, ParseSweepMechanisms(mechanisms, c.mechanism_parameters));
  BIOFED_RETURN_IF_ERROR(ValidateBiomod(biomod));
  return biomod;
}

namespace {

// The job's federation: every client every round, one FedSGD step each, the
// job's defense on every update; train_rounds rounds, or for a converged job
// up to converge_max_rounds (it ends at its plateau, TrainFederation).
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
                            LocalData{train, partition[k], data.norm}, ClientDpSgd(defense)});
  }
  plan.rounds = job.converged ? c.converge_max_rounds : c.train_rounds;
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

// The largest chance that a round's FedSGD batch holds a given example: that
// of the client with the smallest partition. (The accountant assumes Poisson
// sampling; the clients take shuffled batches, the usual approximation.)
double LargestSamplingRate(const FederationPlan& plan) {
  double rate = 0;
  for (const ClientPlan& client : plan.clients) {
    const double n = static_cast<double>(client.data.indices.size());
    const double batch = plan.task.batch_size == 0 ? n : static_cast<double>(plan.task.batch_size);
    if (n > 0) rate = std::max(rate, std::min(1.0, batch / n));
  }
  return rate;
}

}  // namespace

bool Plateaued(const std::vector<std::pair<int64_t, double>>& curve, int64_t evaluations, double gain) {
  const size_t n = curve.size(), recent = static_cast<size_t>(evaluations);
  if (n <= recent) return false;
  double before = -1, since = -1;
  for (size_t i = 0; i < n; ++i) {
    double& best = i < n - recent ? before : since;
    best = std::max(best, curve[i].second);
  }
  return since <= before + gain;
}

absl::StatusOr<TrainedFederation> TrainFederation(const SweepConfig& c, const TrainingJob& job,
                                                  const DatasetSplits& data, const std::atomic<bool>& stop) {
  BIOFED_ASSIGN_OR_RETURN(FederationPlan plan, TrainingPlan(c, job, data));
  TrainedFederation out;
  FederationHooks hooks;
  // Every evaluation on the curve as it comes; a converged job ends at its plateau.
  hooks.on_round = [&](const RoundRow& row) {
    if (EvaluatedRound(plan, row.round)) out.accuracy_curve.push_back({row.round, row.test_accuracy});
  };
  if (job.converged) {
    hooks.finished = [&](const RoundRow& row) {
      out.plateaued = EvaluatedRound(plan, row.round) &&
                      Plateaued(out.accuracy_curve, c.plateau_evaluations, c.plateau_gain);
      return out.plateaued;
    };
  }
  BIOFED_ASSIGN_OR_RETURN(FederationRun run, RunFederation(plan, Transport::kInProcess, hooks, &stop));
  out.rounds = static_cast<int64_t>(run.rounds.size());
  out.test_accuracy = out.accuracy_curve.back().second;
  out.test_loss = run.rounds.back().test_loss;
  out.model = std::move(run.model);
  BIOFED_ASSIGN_OR_RETURN(const Defense defense, ParseDefense(job.defense));
  BIOFED_ASSIGN_OR_RETURN(out.dp_epsilon, DefenseEpsilon(defense, LargestSamplingRate(plan), out.rounds));
  return out;
}

}  // namespace biofed
