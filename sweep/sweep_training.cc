#include "sweep/sweep_training.h"

#include <memory>

#include <torch/torch.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "client/local_training.h"
#include "client/seeds.h"
#include "common/status_macros.h"
#include "data/partition.h"
#include "models/model.h"
#include "server/aggregation.h"
#include "server/model_evaluator.h"
#include "sweep/defense.h"
#include "wire/torch_bridge.h"

namespace biofed {
namespace {

constexpr uint64_t kClientStream = 0x5354;   // "ST": the training clients' private seeds
constexpr uint64_t kDefenseStream = 0x5344;  // "SD": their defense noise

}  // namespace

absl::StatusOr<BiomodOptions> SweepBiomod(const SweepConfig& c, const std::string& mechanisms) {
  BiomodOptions base;
  base.tau = c.tau;
  base.d_re = c.d_re;
  base.gamma = c.gamma;
  BIOFED_ASSIGN_OR_RETURN(BiomodOptions biomod, ParseBiomod(absl::StrReplaceAll(mechanisms, {{"+", ","}}), base));
  BIOFED_RETURN_IF_ERROR(ValidateBiomod(biomod));
  return biomod;
}

absl::StatusOr<TrainedFederation> TrainFederation(const SweepConfig& c, const TrainingJob& job,
                                                  const DatasetSplits& data, const std::atomic<bool>& stop) {
  BIOFED_ASSIGN_OR_RETURN(BiomodOptions biomod, SweepBiomod(c, job.mechanisms));
  BIOFED_ASSIGN_OR_RETURN(Defense defense, ParseDefense(job.defense));
  BIOFED_ASSIGN_OR_RETURN(Architecture architecture, ParseArchitecture(job.model));
  const ModelSpec spec{architecture, {data.train.channels(), data.train.height(), data.train.width()},
                       data.train.num_classes, biomod.split_gamma()};
  const uint64_t seed = static_cast<uint64_t>(job.seed);
  BIOFED_ASSIGN_OR_RETURN(Model initial, BuildModel(spec, seed));
  TensorTable global = ModelStateTable(initial);
  BIOFED_ASSIGN_OR_RETURN(ModelEvaluator evaluate,
                          MakeModelEvaluator(spec, std::make_shared<const Dataset>(data.test), data.norm, "cpu"));

  std::vector<int64_t> labels(data.train.labels.data_ptr<int64_t>(),
                              data.train.labels.data_ptr<int64_t>() + data.train.size());
  PartitionOptions partition_options;
  partition_options.num_clients = c.train_clients;
  partition_options.seed = seed;
  BIOFED_ASSIGN_OR_RETURN(Partition partition, PartitionDataset(labels, data.train.num_classes, partition_options));
  const auto train = std::make_shared<const Dataset>(data.train);
  std::vector<std::unique_ptr<LocalTrainer>> clients;
  for (int64_t k = 0; k < c.train_clients; ++k) {
    clients.push_back(std::make_unique<LocalTrainer>(spec, biomod, MixSeed(seed, kClientStream, k), torch::kCPU));
  }

  TrainedFederation out;
  LocalTask task;
  task.fedsgd = true;
  task.lr = c.lr;
  task.batch_size = c.train_batch;
  for (int64_t round = 1; round <= c.train_rounds; ++round) {
    if (stop.load()) return absl::CancelledError("stopped");
    task.round = round;
    std::vector<ClientUpdate> updates;
    for (int64_t k = 0; k < c.train_clients; ++k) {
      BIOFED_ASSIGN_OR_RETURN(LocalResult result,
                              clients[k]->Train(global, task, LocalData{train, partition[k], data.norm}));
      BIOFED_RETURN_IF_ERROR(ApplyDefense(
          defense, MixSeed(seed, kDefenseStream, static_cast<uint64_t>(round * c.train_clients + k)), result.update));
      updates.push_back({absl::StrCat("c", k), result.num_examples, std::move(result.update)});
    }
    std::vector<const ClientUpdate*> pointers;
    for (const ClientUpdate& u : updates) pointers.push_back(&u);
    BIOFED_ASSIGN_OR_RETURN(global, Aggregate(global, pointers, c.lr));
    if (round % c.eval_every == 0 || round == c.train_rounds) {
      BIOFED_ASSIGN_OR_RETURN(EvaluationResult result, evaluate(global));
      out.accuracy_curve.push_back({round, result.accuracy});
      out.test_accuracy = result.accuracy;
      out.test_loss = result.loss;
    }
  }
  out.model = std::move(global);
  return out;
}

}  // namespace biofed
