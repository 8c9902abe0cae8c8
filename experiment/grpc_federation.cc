// The gRPC transport of experiment/federation_driver.h: the deployment's own
// pieces on loopback. A FederationCore behind a FederationServer on
// 127.0.0.1:0 (plaintext: nothing leaves the process), one FederatedClient
// thread per client with its own random bearer token, and, when the plan
// observes updates, an auditor (auditor and scorer roles) on the observer
// stream whose records and manifests the hooks receive.
#include "experiment/grpc_federation.h"

#include <random>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "attack/observer_client.h"
#include "client/federated_client.h"
#include "common/status_macros.h"
#include "server/federation_server.h"

namespace biofed {
namespace {

// Tokens only travel over loopback; random so that no two runs share them.
std::string RandomToken() {
  std::random_device device;
  std::string token = "loopback-";
  for (int i = 0; i < 4; ++i) token += absl::StrFormat("%08x", device());
  return token;
}

FederationConfig ServerConfigOf(const FederationPlan& plan) {
  FederationConfig fc;
  fc.run_id = plan.name;
  fc.model_spec_json = ModelSpecToJson(plan.spec);
  fc.dataset = plan.dataset;
  fc.rounds = plan.rounds;
  fc.min_clients = static_cast<int64_t>(plan.clients.size());
  fc.mode = plan.task.fedsgd ? TrainingMode::kFedSgd : TrainingMode::kFedAvg;
  fc.lr = plan.task.lr;
  fc.local_epochs = plan.task.local_epochs;
  fc.batch_size = plan.task.batch_size;
  fc.server_lr = plan.server_lr;
  fc.aggregator = plan.aggregator;
  fc.evaluate_every = plan.evaluate_every;
  fc.malicious_entries = plan.malicious_entries;
  // In process every client is alive and sampled: a round waits for all.
  fc.round_deadline = absl::Minutes(30);
  fc.poll_interval = absl::Milliseconds(5);
  const bool observed = !plan.observed_rounds.empty() && !plan.observed_clients.empty();
  fc.collect_audit_manifests = observed;
  fc.observation_log_limit = observed ? size_t{1} << 20 : 0;  // the auditor never loses an update
  return fc;
}

FederatedClientOptions ClientOptionsOf(const FederationPlan& plan, size_t k, const std::string& address,
                                       const std::string& token, const std::atomic<bool>* stop) {
  FederatedClientOptions o;
  o.address = address;
  o.security.insecure = true;
  o.token = token;
  o.biomod = plan.clients[k].biomod;
  o.dp = plan.clients[k].dp;
  o.biomod_name = BiomodName(plan.clients[k].biomod);
  o.seed = plan.clients[k].seed;
  o.device = plan.device;
  o.stop = stop;
  if (plan.defend) {
    o.defend = [defend = plan.defend, k](int64_t round, TensorTable& update) { return defend(round, k, update); };
  }
  return o;
}

// The auditor: observes the plan's selection and hands each update to the hook.
absl::Status Audit(const FederationPlan& plan, const FederationHooks& hooks, const std::string& address,
                   const std::string& token) {
  ObserverOptions observer;
  observer.address = address;
  observer.security.insecure = true;
  observer.token = token;
  observer.norm = plan.clients.front().data.norm;
  v1::ObserveRequest request;
  for (int64_t r : plan.observed_rounds) request.add_rounds(r);
  for (const std::string& c : plan.observed_clients) request.add_client_ids(c);
  BIOFED_ASSIGN_OR_RETURN(ObserverSession session, ObserverSession::Open(observer));
  DatasetSplits data;
  data.train = *plan.clients.front().data.train;
  data.norm = observer.norm;
  return RunAuditor(session, request, data, absl::ZeroDuration(), [&](CaptureFile observed) {
    hooks.on_update(std::move(observed));
    return absl::OkStatus();
  });
}

// Runs the clients (and the auditor) against a started server until the
// federation ends. A failing client would stall every round: it stops the
// others and the core, and its error is returned. A raised `stop` (polled
// every 50 ms) stops them too.
absl::Status RunParticipants(const FederationPlan& plan, const FederationHooks& hooks, FederationCore& core,
                             const std::string& address, const std::vector<std::string>& tokens,
                             const std::string& auditor_token, const std::atomic<bool>* stop) {
  std::atomic<bool> stop_all{false};
  std::atomic<bool> finished{false};
  std::thread watcher([&] {
    while (!finished.load()) {
      if (stop != nullptr && stop->load() && !stop_all.exchange(true)) core.Stop();
      absl::SleepFor(absl::Milliseconds(50));
    }
  });
  absl::Status auditor_status;
  std::thread auditor;
  if (core.config().collect_audit_manifests && hooks.on_update) {
    auditor = std::thread([&] { auditor_status = Audit(plan, hooks, address, auditor_token); });
  }
  std::vector<absl::Status> client_status(plan.clients.size());
  std::vector<std::thread> clients;
  for (size_t k = 0; k < plan.clients.size(); ++k) {
    clients.emplace_back([&, k] {
      client_status[k] =
          FederatedClient(ClientOptionsOf(plan, k, address, tokens[k], &stop_all), plan.clients[k].data).Run();
      if (!client_status[k].ok() && !stop_all.exchange(true)) core.Stop();
    });
  }
  for (std::thread& t : clients) t.join();
  if (auditor.joinable()) auditor.join();
  finished = true;
  watcher.join();
  for (const absl::Status& s : client_status) {
    if (!s.ok() && s.code() != absl::StatusCode::kCancelled) return s;
  }
  return auditor_status;
}

}  // namespace

RoundRow RoundRowOf(const RoundSummary& s) {
  RoundRow row;
  row.round = s.round;
  row.test_accuracy = s.test_accuracy;
  row.test_loss = s.test_loss;
  row.train_loss = s.train_loss;
  row.examples = s.examples;
  row.participants = static_cast<int64_t>(s.participants.size());
  row.dropped = static_cast<int64_t>(s.dropped.size());
  row.rejected = s.rejected_updates;
  row.seconds = s.seconds;
  return row;
}

absl::StatusOr<FederationRun> RunGrpcFederation(const FederationPlan& plan, const FederationHooks& hooks,
                                                const std::atomic<bool>* stop) {
  if (plan.clients.empty()) return absl::InvalidArgumentError("a federation needs clients");
  if (hooks.finished) {
    return absl::InvalidArgumentError("ending a federation on a condition is in-process only; use that transport");
  }
  if (plan.task.share != SharedKind::kPseudoGradient) {
    return absl::InvalidArgumentError("the federation protocol carries pseudo-gradients; use the in-process transport");
  }
  CredentialStore credentials;
  std::vector<std::string> tokens;
  for (const ClientPlan& c : plan.clients) {
    tokens.push_back(RandomToken());
    BIOFED_RETURN_IF_ERROR(credentials.Add(c.id, {Role::kClient}, tokens.back()));
  }
  const std::string auditor_token = RandomToken();
  BIOFED_RETURN_IF_ERROR(credentials.Add("auditor", {Role::kAuditor, Role::kScorer}, auditor_token));
  BIOFED_ASSIGN_OR_RETURN(auto core, FederationCore::Create(ServerConfigOf(plan), plan.initial_model, plan.evaluate));
  FederationRun run;
  core->SetRoundListener([&](const RoundSummary& summary) {
    const RoundRow row = RoundRowOf(summary);
    if (hooks.on_round) hooks.on_round(row);
    run.rounds.push_back(row);
  });
  core->Start();
  BIOFED_ASSIGN_OR_RETURN(auto server, FederationServer::Start("127.0.0.1:0", ServerSecurity{true, "", "", ""},
                                                               core.get(), std::move(credentials)));
  const std::string address = absl::StrCat("127.0.0.1:", server->port());
  const absl::Status participants = RunParticipants(plan, hooks, *core, address, tokens, auditor_token, stop);
  server->Shutdown(absl::Seconds(1));
  core->Stop();
  BIOFED_RETURN_IF_ERROR(participants);
  if (stop != nullptr && stop->load()) return absl::CancelledError("stopped");
  run.model = *core->current_model();
  return run;
}

}  // namespace biofed
