#include "simulate/simulation.h"

#include <condition_variable>
#include <deque>
#include <limits>
#include <mutex>
#include <thread>

#include <torch/torch.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "attack/imprint.h"
#include "client/dp_accounting.h"
#include "client/seeds.h"
#include "common/log.h"
#include "common/runtime.h"
#include "common/status_macros.h"
#include "data/partition.h"
#include "experiment/attack_and_score.h"
#include "experiment/federation_driver.h"
#include "server/model_evaluator.h"
#include "simulate/simulation_config.h"
#include "wire/torch_bridge.h"

namespace biofed {
namespace {

constexpr uint64_t kClientSeedStream = 0x4353;  // "CS"

std::string ClientName(int64_t i) { return absl::StrCat("c", i); }

// The federation of one mechanism set: c0..cK-1 on their partitions, the
// config's task and evaluation every round, the selected updates observed.
absl::StatusOr<FederationPlan> PlanOf(const SimulationConfig& c, const std::string& name, const BiomodOptions& biomod,
                                      const DatasetSplits& data, const Partition& partition) {
  FederationPlan plan;
  plan.name = absl::StrCat("simulate-", name);
  BIOFED_ASSIGN_OR_RETURN(Architecture architecture, ParseArchitecture(c.model));
  plan.spec = {architecture, {data.train.channels(), data.train.height(), data.train.width()}, data.train.num_classes,
               biomod.split_gamma()};
  BIOFED_ASSIGN_OR_RETURN(Model initial, BuildModel(plan.spec, c.seed));
  if (c.server_behaviour == ServerBehaviour::Kind::kImprint) {
    // The server's own data for the thresholds is the test split (the clients train on the training split).
    BIOFED_ASSIGN_OR_RETURN(initial, ImprintedModel(initial, c.attacker.config.imprint_bins,
                                                    ImprintPublicImages(data.test, data.norm)));
    plan.spec = initial.spec();
    plan.malicious_entries = ImprintBlockEntries(initial);
  }
  plan.initial_model = ModelStateTable(initial);
  plan.dataset = data.train.name;
  const auto train = std::make_shared<const Dataset>(data.train);  // shared read-only by every client
  for (int64_t i = 0; i < c.clients; ++i) {
    std::vector<int64_t> indices = partition[static_cast<size_t>(i)];
    if (c.samples_per_client > 0 && static_cast<int64_t>(indices.size()) > c.samples_per_client) {
      indices.resize(static_cast<size_t>(c.samples_per_client));
    }
    plan.clients.push_back({ClientName(i), MixSeed(c.seed, kClientSeedStream, static_cast<uint64_t>(i)), biomod,
                            LocalData{train, std::move(indices), data.norm}, c.dp});
  }
  plan.rounds = c.rounds;
  plan.task.fedsgd = c.mode == "fedsgd";
  plan.task.share = c.share;
  plan.task.lr = c.lr;
  plan.task.local_epochs = c.local_epochs;
  plan.task.batch_size = c.batch;
  plan.server_lr = c.server_lr;
  plan.aggregator = c.aggregator;
  plan.device = c.device;
  BIOFED_ASSIGN_OR_RETURN(plan.evaluate, MakeModelEvaluator(plan.spec, std::make_shared<const Dataset>(data.test),
                                                            data.norm, c.device));
  for (int64_t r : AttackedRounds(c)) plan.observed_rounds.insert(r);
  for (int64_t i = 0; i < std::min(c.attacked_clients, c.clients); ++i) plan.observed_clients.insert(ClientName(i));
  return plan;
}

// Observed updates waiting to be attacked, filled by the auditor, drained by
// the workers.
class UpdateQueue {
 public:
  void Push(CaptureFile observed) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      queue_.push_back(std::move(observed));
    }
    ready_.notify_one();
  }
  void Close() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      closed_ = true;
    }
    ready_.notify_all();
  }
  bool Pop(CaptureFile* out) {
    std::unique_lock<std::mutex> lock(mutex_);
    ready_.wait(lock, [&] { return closed_ || !queue_.empty(); });
    if (queue_.empty()) return false;
    *out = std::move(queue_.front());
    queue_.pop_front();
    return true;
  }

 private:
  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<CaptureFile> queue_;
  bool closed_ = false;
};

// Attacks observed updates on worker threads while the federation trains;
// each scored attack goes to the study as it is done.
class AttackWorkers {
 public:
  AttackWorkers(const SimulationConfig& c, const torch::Device& device, ResultsStore& store, int64_t run_id,
                std::string name, const std::function<void(const std::string&)>& progress)
      : request_{WithProtocolWr(c.attacker, c.mechanism_parameters.d_re,
                                c.mechanism_parameters.variant == RejuvenationVariant::kPaper),
                 AttackSpecName(c.attacker, c.attacker), c.seed, 0, {}},
        device_(device), store_(store), run_id_(run_id), name_(std::move(name)), progress_(progress),
        status_(static_cast<size_t>(c.attack_workers)) {
    for (int64_t w = 0; w < c.attack_workers; ++w) threads_.emplace_back([this, w] { Work(w); });
  }

  void Submit(CaptureFile observed) { queue_.Push(std::move(observed)); }

  // Waits for the queued attacks; their rows by round and client, or the first error.
  absl::StatusOr<std::vector<ObservedAttack>> Finish() {
    queue_.Close();
    for (std::thread& t : threads_) t.join();
    for (const absl::Status& s : status_) BIOFED_RETURN_IF_ERROR(s);
    std::sort(rows_.begin(), rows_.end(), [](const ObservedAttack& a, const ObservedAttack& b) {
      return std::tie(a.round, a.client_id) < std::tie(b.round, b.client_id);
    });
    return rows_;
  }

 private:
  void Work(int64_t w) {
    CaptureFile observed;
    while (queue_.Pop(&observed)) {
      const UpdateRecord& record = observed.record;
      absl::StatusOr<AttackOutcome> outcome = AttackAndScore(request_, record, *observed.audit, device_);
      if (!outcome.ok()) {
        status_[w] = outcome.status();
        LogError("simulate", absl::StrCat("attack on round ", record.round, " ", record.client_id, ": ",
                                          outcome.status().ToString()));
        continue;
      }
      ObservedAttack row{record.round, record.client_id, std::move(outcome->scored)};
      if (absl::Status stored = store_.AddAttack(run_id_, row); !stored.ok()) status_[w] = stored;
      std::lock_guard<std::mutex> lock(mutex_);
      progress_(absl::StrFormat("%s attack %s on round %d %s: PSNR %.2f dB, SSIM %.3f, rel. error %.1f%%", name_,
                                row.scored.attack, row.round, row.client_id, row.scored.psnr, row.scored.ssim,
                                row.scored.relative_error_percent));
      rows_.push_back(std::move(row));
    }
  }

  const AttackRequest request_;
  const torch::Device device_;
  ResultsStore& store_;
  const int64_t run_id_;
  const std::string name_;
  const std::function<void(const std::string&)>& progress_;
  UpdateQueue queue_;
  std::mutex mutex_;
  std::vector<ObservedAttack> rows_;
  std::vector<absl::Status> status_;
  std::vector<std::thread> threads_;
};

// FederationOutcome::dp_epsilon of the plan's clients over the whole run.
absl::StatusOr<double> RunEpsilon(const SimulationConfig& c, const FederationPlan& plan) {
  if (!c.dp.enabled() || c.dp.noise_multiplier <= 0) return std::numeric_limits<double>::infinity();
  int64_t smallest = std::numeric_limits<int64_t>::max();
  for (const ClientPlan& client : plan.clients) smallest = std::min<int64_t>(smallest, client.data.indices.size());
  const int64_t batch = c.batch > 0 ? std::min(c.batch, smallest) : smallest;
  const int64_t steps_per_round = c.mode == "fedsgd" ? 1 : c.local_epochs * ((smallest + batch - 1) / batch);
  BIOFED_ASSIGN_OR_RETURN(PrivacySpent spent,
                          DpSgdEpsilon({static_cast<double>(batch) / static_cast<double>(smallest),
                                        c.dp.noise_multiplier, c.rounds * steps_per_round},
                                       kSimulationDpDelta));
  return spent.epsilon;
}

absl::StatusOr<FederationOutcome> SimulateOne(const SimulationConfig& c, const std::string& mechanisms,
                                              const DatasetSplits& data, const Partition& partition,
                                              ResultsStore& store,
                                              const std::function<void(const std::string&)>& progress) {
  BIOFED_ASSIGN_OR_RETURN(BiomodOptions biomod, ParseBiomod(mechanisms, c.mechanism_parameters));
  BIOFED_RETURN_IF_ERROR(ValidateBiomod(biomod));
  FederationOutcome outcome;
  outcome.name = biomod.any() ? BiomodName(biomod) : "baseline";
  BIOFED_ASSIGN_OR_RETURN(FederationPlan plan, PlanOf(c, outcome.name, biomod, data, partition));
  BIOFED_ASSIGN_OR_RETURN(outcome.dp_epsilon, RunEpsilon(c, plan));  // before the work, so a refusal costs none
  BIOFED_ASSIGN_OR_RETURN(torch::Device device, ResolveDevice(c.device));
  BIOFED_ASSIGN_OR_RETURN(outcome.run_id, store.AddRun(outcome.name, BiomodName(biomod), SimulationConfigJson(c)));
  AttackWorkers workers(c, device, store, outcome.run_id, outcome.name, progress);
  FederationHooks hooks;
  hooks.on_round = [&](const RoundRow& row) {
    if (absl::Status stored = store.AddRound(outcome.run_id, row); !stored.ok()) LogError("simulate", stored.ToString());
    progress(absl::StrFormat("%s round %d/%d: test accuracy %.4f", outcome.name, row.round, c.rounds, row.test_accuracy));
  };
  hooks.on_update = [&](CaptureFile observed) { workers.Submit(std::move(observed)); };
  // Over gRPC on localhost, as deployed; the protocol carries pseudo-gradients,
  // so a one-step share runs in-process (the same federation, driver tests).
  const Transport transport = c.share == SharedKind::kPseudoGradient ? Transport::kGrpc : Transport::kInProcess;
  absl::StatusOr<FederationRun> run = RunFederation(plan, transport, hooks);
  absl::StatusOr<std::vector<ObservedAttack>> attacks = workers.Finish();
  BIOFED_RETURN_IF_ERROR(run.status());
  BIOFED_RETURN_IF_ERROR(attacks.status());
  outcome.rounds = std::move(run->rounds);
  outcome.attacks = std::move(*attacks);
  BIOFED_RETURN_IF_ERROR(store.MarkFinished(outcome.run_id));
  return outcome;
}

}  // namespace

absl::StatusOr<std::vector<FederationOutcome>> RunSimulation(const SimulationConfig& c, ResultsStore& store,
                                                             const std::function<void(const std::string&)>& progress) {
  BIOFED_RETURN_IF_ERROR(ValidateSimulationConfig(c));
  BIOFED_ASSIGN_OR_RETURN(DatasetSplits data, LoadDataset(c.dataset, c.data_dir));
  std::vector<int64_t> labels(data.train.labels.data_ptr<int64_t>(),
                              data.train.labels.data_ptr<int64_t>() + data.train.size());
  PartitionOptions options;
  options.scheme = c.partition;
  options.num_clients = c.clients;
  options.dirichlet_alpha = c.dirichlet_alpha;
  options.seed = c.seed;
  BIOFED_ASSIGN_OR_RETURN(Partition partition, PartitionDataset(labels, data.train.num_classes, options));
  std::vector<FederationOutcome> outcomes;
  for (const std::string& mechanisms : c.biomods) {
    BIOFED_ASSIGN_OR_RETURN(FederationOutcome outcome, SimulateOne(c, mechanisms, data, partition, store, progress));
    outcomes.push_back(std::move(outcome));
  }
  return outcomes;
}

}  // namespace biofed
