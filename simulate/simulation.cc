#include "simulate/simulation.h"

#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <random>
#include <thread>

#include <torch/torch.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "attack/observer_client.h"
#include "client/federated_client.h"
#include "client/seeds.h"
#include "common/log.h"
#include "common/runtime.h"
#include "common/status_macros.h"
#include "common/torch_status.h"
#include "data/partition.h"
#include "server/federation_server.h"
#include "server/model_evaluator.h"
#include "simulate/attack_scoring.h"
#include "simulate/simulation_config.h"
#include "wire/torch_bridge.h"

namespace biofed {
namespace {

constexpr uint64_t kClientSeedStream = 0x4353;  // "CS"

std::string ClientName(int64_t i) { return absl::StrCat("c", i); }

AuditAttackOptions AttackOptionsOf(const SimulationConfig& c) {
  AuditAttackOptions o;
  o.attack = c.attack;
  o.iterations = c.attack_iterations;
  o.lr = c.attack_lr;
  o.tv_weight = c.tv_weight;
  o.restarts = c.restarts;
  o.labels = c.labels;
  o.fl_factors_known = c.fl_factors_known;
  o.seed = c.seed;
  return o;
}

// Tokens only travel over in-process loopback; random so no two runs share them.
std::string RandomToken() {
  std::random_device device;
  std::string token = "sim-";
  for (int i = 0; i < 4; ++i) token += absl::StrFormat("%08x", device());
  return token;
}

// Updates waiting to be attacked, filled by the auditor, drained by workers.
class RecordQueue {
 public:
  void Push(UpdateRecord r) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      queue_.push_back(std::move(r));
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
  bool Pop(UpdateRecord* out) {
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
  std::deque<UpdateRecord> queue_;
  bool closed_ = false;
};

absl::StatusOr<FederationOutcome> RunFederation(const SimulationConfig& c, const std::string& biomod_list,
                                                const DatasetSplits& data, const Partition& partition,
                                                ResultsStore& store,
                                                const std::function<void(const std::string&)>& progress) {
  BiomodOptions base;
  base.tau = c.tau;
  base.d_re = c.d_re;
  base.gamma = c.gamma;
  BIOFED_ASSIGN_OR_RETURN(BiomodOptions biomod, ParseBiomod(biomod_list, base));
  BIOFED_RETURN_IF_ERROR(ValidateBiomod(biomod));
  FederationOutcome outcome;
  outcome.name = biomod.any() ? BiomodName(biomod) : "baseline";
  BIOFED_ASSIGN_OR_RETURN(Architecture architecture, ParseArchitecture(c.model));
  const ModelSpec spec{architecture, {data.train.channels(), data.train.height(), data.train.width()},
                       data.train.num_classes, biomod.split_gamma()};
  BIOFED_ASSIGN_OR_RETURN(Model initial, BuildModel(spec, c.seed));
  BIOFED_ASSIGN_OR_RETURN(ModelEvaluator evaluator,
                          MakeModelEvaluator(spec, std::make_shared<const Dataset>(data.test), data.norm, c.device));
  BIOFED_ASSIGN_OR_RETURN(outcome.run_id, store.AddRun(outcome.name, BiomodName(biomod), SimulationConfigJson(c)));

  CredentialStore credentials;
  std::vector<std::string> tokens;
  for (int64_t i = 0; i < c.clients; ++i) {
    tokens.push_back(RandomToken());
    BIOFED_RETURN_IF_ERROR(credentials.Add(ClientName(i), {Role::kClient}, tokens.back()));
  }
  const std::string auditor_token = RandomToken();
  BIOFED_RETURN_IF_ERROR(credentials.Add("auditor", {Role::kAuditor, Role::kScorer}, auditor_token));

  FederationConfig fc;
  fc.run_id = absl::StrCat("simulate-", outcome.name);
  fc.model_spec_json = ModelSpecToJson(spec);
  fc.dataset = data.train.name;
  fc.rounds = c.rounds;
  fc.min_clients = c.clients;
  BIOFED_ASSIGN_OR_RETURN(fc.mode, ParseTrainingMode(c.mode));
  fc.lr = c.lr;
  fc.local_epochs = c.local_epochs;
  fc.batch_size = c.batch;
  fc.server_lr = c.server_lr;
  fc.seed = c.seed;
  fc.round_deadline = absl::Minutes(30);
  fc.poll_interval = absl::Milliseconds(5);
  fc.collect_audit_manifests = true;
  fc.observation_log_limit = 1 << 20;  // in-process auditor: never drop an update
  BIOFED_ASSIGN_OR_RETURN(auto core, FederationCore::Create(fc, ModelStateTable(initial), evaluator));
  std::mutex rows_mutex;
  core->SetRoundListener([&](const RoundSummary& s) {
    RoundRow row{s.round, s.test_accuracy, s.test_loss, s.train_loss, s.seconds, s.examples,
                 static_cast<int64_t>(s.participants.size()), static_cast<int64_t>(s.dropped.size()),
                 s.rejected_updates};
    const absl::Status stored = store.AddRound(outcome.run_id, row);
    if (!stored.ok()) LogError("simulate", stored.ToString());
    {
      std::lock_guard<std::mutex> lock(rows_mutex);
      outcome.rounds.push_back(row);
    }
    progress(absl::StrFormat("%s round %d/%d: test accuracy %.4f", outcome.name, s.round, c.rounds, s.test_accuracy));
  });
  core->Start();
  BIOFED_ASSIGN_OR_RETURN(auto server, FederationServer::Start("127.0.0.1:0", ServerSecurity{true, "", "", ""},
                                                               core.get(), std::move(credentials)));
  const std::string address = absl::StrCat("127.0.0.1:", server->port());

  // The auditor and the attack workers.
  ObserverOptions observer;
  observer.address = address;
  observer.security.insecure = true;
  observer.token = auditor_token;
  observer.norm = data.norm;
  v1::ObserveRequest request;
  for (int64_t r : c.attack_rounds) request.add_rounds(r);
  for (int64_t i = 0; i < std::min(c.attacked_clients, c.clients); ++i) request.add_client_ids(ClientName(i));
  BIOFED_ASSIGN_OR_RETURN(ObserverSession session, ObserverSession::Open(observer));
  RecordQueue queue;
  absl::Status observer_status;
  std::thread auditor([&] {
    observer_status = session.Observe(request, [&](UpdateRecord r) {
      queue.Push(std::move(r));
      return true;
    });
    queue.Close();
  });
  BIOFED_ASSIGN_OR_RETURN(torch::Device device, ResolveDevice(c.device));
  std::vector<std::thread> workers;
  std::vector<absl::Status> worker_status(static_cast<size_t>(c.attack_workers));
  for (int64_t w = 0; w < c.attack_workers; ++w) {
    workers.emplace_back([&, w] {
      UpdateRecord record;
      while (queue.Pop(&record)) {
        absl::StatusOr<AttackRow> row = [&]() -> absl::StatusOr<AttackRow> {
          BIOFED_ASSIGN_OR_RETURN(v1::AuditManifest manifest,
                                  session.FetchAuditManifest(record.round, record.client_id));
          BIOFED_ASSIGN_OR_RETURN(AuditRecord audit, AuditFromManifest(manifest, data));
          return AttackAndScore(AttackOptionsOf(c), record, audit, device);
        }();
        if (!row.ok()) {
          worker_status[w] = row.status();
          LogError("simulate", absl::StrCat("attack on round ", record.round, " ", record.client_id, ": ",
                                            row.status().ToString()));
          continue;
        }
        const absl::Status stored = store.AddAttack(outcome.run_id, *row);
        if (!stored.ok()) worker_status[w] = stored;
        progress(absl::StrFormat("%s attack %s on round %d %s: PSNR %.2f dB, SSIM %.3f, rel. error %.1f%%",
                                 outcome.name, row->attack, row->round, row->client_id, row->psnr, row->ssim,
                                 row->relative_error_percent));
        std::lock_guard<std::mutex> lock(rows_mutex);
        outcome.attacks.push_back(std::move(*row));
      }
    });
  }

  // The clients.
  std::vector<std::thread> clients;
  std::vector<absl::Status> client_status(static_cast<size_t>(c.clients));
  // A client that fails would stall every round (all clients are needed):
  // stop the others and the server, and report its error.
  std::atomic<bool> stop_all{false};
  const auto train = std::make_shared<const Dataset>(data.train);  // shared read-only by every client
  for (int64_t i = 0; i < c.clients; ++i) {
    FederatedClientOptions o;
    o.address = address;
    o.security.insecure = true;
    o.token = tokens[i];
    o.biomod = biomod;  // LocalTrainer takes WS from the server's model spec
    o.biomod_name = BiomodName(biomod);
    o.seed = MixSeed(c.seed, kClientSeedStream, static_cast<uint64_t>(i));
    o.device = c.device;
    o.stop = &stop_all;
    std::vector<int64_t> indices = partition[static_cast<size_t>(i)];
    if (c.samples_per_client > 0 && static_cast<int64_t>(indices.size()) > c.samples_per_client) {
      indices.resize(static_cast<size_t>(c.samples_per_client));
    }
    LocalData local{train, std::move(indices), data.norm};
    clients.emplace_back([&client_status, &stop_all, &core, i, o, local] {
      client_status[i] = FederatedClient(o, local).Run();
      if (!client_status[i].ok() && !stop_all.exchange(true)) core->Stop();
    });
  }
  for (auto& t : clients) t.join();
  auditor.join();
  for (auto& t : workers) t.join();
  server->Shutdown(absl::Seconds(1));
  core->Stop();
  for (const absl::Status& s : client_status) {
    if (!s.ok() && s.code() != absl::StatusCode::kCancelled) return s;
  }
  BIOFED_RETURN_IF_ERROR(observer_status);
  for (const absl::Status& s : worker_status) BIOFED_RETURN_IF_ERROR(s);
  BIOFED_RETURN_IF_ERROR(store.MarkFinished(outcome.run_id));
  std::sort(outcome.attacks.begin(), outcome.attacks.end(), [](const AttackRow& a, const AttackRow& b) {
    return std::tie(a.round, a.client_id) < std::tie(b.round, b.client_id);
  });
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
  for (const std::string& biomod : c.biomods) {
    BIOFED_ASSIGN_OR_RETURN(FederationOutcome outcome, RunFederation(c, biomod, data, partition, store, progress));
    outcomes.push_back(std::move(outcome));
  }
  return outcomes;
}

}  // namespace biofed
