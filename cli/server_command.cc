// `biofed server`: a federation server for real deployments.
#include <atomic>
#include <csignal>
#include <cstdio>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "attack/imprint.h"
#include "cli/cli_util.h"
#include "cli/commands.h"
#include "cli/flag_groups.h"
#include "common/files.h"
#include "common/log.h"
#include "common/runtime.h"
#include "common/status_macros.h"
#include "server/federation_server.h"
#include "server/model_evaluator.h"
#include "wire/torch_bridge.h"

namespace biofed {
namespace {

std::atomic<bool> interrupted{false};
void OnSignal(int) { interrupted.store(true); }

struct ServerFlags {
  std::string address = "0.0.0.0:50051";
  std::string credentials;
  ServerSecurity security{false, "", "", ""};
  std::string model = "mlp";
  int64_t gamma = 0;
  int64_t malicious_imprint_bins = 0;  // 0: an honest server
  DataFlags data;
  FederationConfig config;
  std::string mode = "fedavg";
  double deadline_s = 300, client_timeout_s = 60, linger_s = 5;
  int64_t seed = 0;
  ComputeFlags compute;
  std::string out;
};

// What one client may claim and send (docs/security.md).
void AddHostileClientFlags(FlagSet& flags, ServerFlags& f) {
  FederationConfig& c = f.config;
  flags.AddInt("max-examples-per-update", &c.max_examples_per_update,
               "an update claiming more examples is refused with INVALID_ARGUMENT");
  flags.AddDouble("max-update-norm", &c.max_update_norm,
                  "bound on each update's L2 norm (0: none; a norm that overflows is always refused)");
  flags.AddParsed("update-norm-policy", "reject",
                  "reject (INVALID_ARGUMENT) or clip (scale down to the bound) an update above --max-update-norm",
                  [&c](const std::string& text) -> absl::Status {
                    BIOFED_ASSIGN_OR_RETURN(c.update_norm_policy, ParseUpdateNormPolicy(text));
                    return absl::OkStatus();
                  });
}

void AddFederationFlags(FlagSet& flags, ServerFlags& f) {
  FederationConfig& c = f.config;
  flags.AddString("run-id", &c.run_id, "name of the run (recorded in the checkpoint)");
  flags.AddInt("rounds", &c.rounds, "rounds to run");
  flags.AddDouble("fraction", &c.fraction, "fraction of live clients sampled per round");
  flags.AddInt("min-clients", &c.min_clients, "updates needed to close a round at its deadline");
  flags.AddInt("min-available", &c.min_available, "live clients needed to open a round (0: --min-clients)");
  flags.AddString("mode", &f.mode, "fedavg (local epochs) or fedsgd (one local step)");
  flags.AddDouble("lr", &c.lr, "the clients' SGD learning rate");
  flags.AddInt("local-epochs", &c.local_epochs, "FedAvg local epochs");
  flags.AddInt("batch", &c.batch_size, "local batch size (0: the whole partition)");
  flags.AddDouble("server-lr", &c.server_lr, "server step = server-lr * lr * combined pseudo-gradient");
  flags.AddParsed("aggregator", "mean",
                  "mean (example-weighted), median, trimmed-mean:F or norm-clip:C (robust to a Byzantine client; "
                  "docs/security.md)",
                  [&c](const std::string& text) -> absl::Status {
                    BIOFED_ASSIGN_OR_RETURN(c.aggregator, ParseAggregator(text));
                    return absl::OkStatus();
                  });
  flags.AddDouble("round-deadline-s", &f.deadline_s, "seconds after which stragglers are dropped");
  flags.AddDouble("client-timeout-s", &f.client_timeout_s, "a client silent this long is not sampled");
  flags.AddString("checkpoint", &c.checkpoint_path, "checkpoint file, written after every round");
  flags.AddBool("audit-manifests", &c.collect_audit_manifests, "testbed mode: collect audit manifests for scorers");
  AddHostileClientFlags(flags, f);
}

void AddFlags(FlagSet& flags, ServerFlags& f) {
  f.config.run_id = "biofed";
  f.config.min_clients = 2;
  flags.AddString("address", &f.address, "host:port to listen on");
  flags.AddString("credentials", &f.credentials, "file of '<name> <roles> <token>' lines (required)");
  flags.AddString("tls-cert", &f.security.certificate_path, "PEM certificate chain of the server");
  flags.AddString("tls-key", &f.security.private_key_path, "PEM private key of the server");
  flags.AddString("client-ca", &f.security.client_ca_path, "PEM CA of client certificates: turns on mutual TLS");
  flags.AddBool("insecure", &f.security.insecure, "plain TCP without TLS (tokens travel in clear)");
  flags.AddString("model", &f.model, "mlp, alexnet, resnet20, resnet32 or resnet56");
  flags.AddInt("ws-gamma", &f.gamma, "weight splitting factor of the model (0: no WS)");
  flags.AddInt("malicious-imprint-bins", &f.malicious_imprint_bins,
               "MALICIOUS server, for privacy experiments only: puts an imprint block of N bins in front of the "
               "model and keeps it every round, so that whoever reads the updates (an auditor, `biofed attack "
               "--attack imprint` on a capture) recovers the clients' training inputs (Robbing the Fed); "
               "0, the default: an honest server");
  AddDataFlags(flags, &f.data);
  AddFederationFlags(flags, f);
  flags.AddInt("seed", &f.seed, "seed of the initial model and the client sampling");
  AddComputeFlags(flags, &f.compute);
  flags.AddString("out", &f.out, "directory for summary.json (rewritten after each round)");
  flags.AddDouble("linger-s", &f.linger_s, "seconds to keep serving after the last round, so clients hear it ended");
}

// The server's per-round line and summary.json (when --out is given).
void ReportRound(const ServerFlags& f, const FederationCore& core, const RoundSummary& s) {
  std::printf("round %lld: test accuracy %.4f, %zu updates, %zu dropped, %.1f s\n", static_cast<long long>(s.round),
              s.test_accuracy, s.participants.size(), s.dropped.size(), s.seconds);
  std::fflush(stdout);
  if (f.out.empty()) return;
  const FederationConfig& c = core.config();
  const nlohmann::json summary = {{"run_id", c.run_id}, {"model_spec", nlohmann::json::parse(c.model_spec_json)},
                                  {"dataset", c.dataset}, {"mode", f.mode}, {"rounds", c.rounds},
                                  {"history", nlohmann::json::parse(RoundHistoryJson(core.history()))}};
  const absl::Status written = WriteFileAtomically((std::filesystem::path(f.out) / "summary.json").string(),
                                                   summary.dump(2) + "\n");
  if (!written.ok()) LogError("server", written.ToString());
}

absl::StatusOr<std::unique_ptr<FederationCore>> MakeCore(const ServerFlags& f, const CredentialStore& credentials) {
  BIOFED_ASSIGN_OR_RETURN(Architecture architecture, ParseArchitecture(f.model));
  FederationConfig config = f.config;
  BIOFED_ASSIGN_OR_RETURN(config.mode, ParseTrainingMode(f.mode));
  BIOFED_ASSIGN_OR_RETURN(DatasetSplits data, LoadData(f.data));
  ModelSpec spec{architecture, {data.train.channels(), data.train.height(), data.train.width()},
                 data.train.num_classes, f.gamma, /*imprint_bins=*/0};
  BIOFED_ASSIGN_OR_RETURN(Model initial, BuildModel(spec, static_cast<uint64_t>(f.seed)));
  if (f.malicious_imprint_bins < 0) return absl::InvalidArgumentError("--malicious-imprint-bins must be >= 0");
  if (f.malicious_imprint_bins > 0) {
    // Thresholds from the test split, the server's own data.
    BIOFED_ASSIGN_OR_RETURN(initial, ImprintedModel(initial, f.malicious_imprint_bins,
                                                    ImprintPublicImages(data.test, data.norm)));
    spec = initial.spec();
    config.malicious_entries = ImprintBlockEntries(initial);
  }
  BIOFED_ASSIGN_OR_RETURN(ModelEvaluator evaluator, MakeModelEvaluator(spec, std::make_shared<const Dataset>(data.test),
                                                                       data.norm, f.compute.device));
  config.model_spec_json = ModelSpecToJson(spec);
  config.dataset = data.train.name;
  config.round_deadline = absl::Seconds(f.deadline_s);
  config.client_timeout = absl::Seconds(f.client_timeout_s);
  config.seed = static_cast<uint64_t>(f.seed);
  // Auditors may lag behind a round or two; keep the updates they have not read.
  if (credentials.AnyoneHas(Role::kAuditor)) config.observation_log_limit = 256;
  return FederationCore::Create(config, ModelStateTable(initial), evaluator);
}

// Serves until the federation ends (then lingers) or a signal arrives.
// Returns whether it ended.
bool ServeUntilDone(const ServerFlags& f, FederationCore& core) {
  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);
  core.Start();
  while (!interrupted.load() && !core.WaitUntilFinished(absl::Milliseconds(200))) {
  }
  if (!core.finished()) {
    LogWarning("server", "interrupted; completed rounds are in the checkpoint");
    return false;
  }
  const absl::Time end = absl::Now() + absl::Seconds(f.linger_s);
  while (!interrupted.load() && absl::Now() < end) absl::SleepFor(absl::Milliseconds(100));
  return true;
}

absl::StatusOr<bool> Serve(const ServerFlags& f) {
  if (f.credentials.empty()) return absl::InvalidArgumentError("--credentials is required");
  BIOFED_ASSIGN_OR_RETURN(CredentialStore credentials, CredentialStore::Load(f.credentials));
  ConfigureThreads(f.compute.threads);
  BIOFED_ASSIGN_OR_RETURN(std::unique_ptr<FederationCore> core, MakeCore(f, credentials));
  core->SetRoundListener([&](const RoundSummary& s) { ReportRound(f, *core, s); });
  BIOFED_ASSIGN_OR_RETURN(auto server, FederationServer::Start(f.address, f.security, core.get(), std::move(credentials)));
  LogInfo("server", absl::StrCat("listening on port ", server->port(), f.security.insecure ? " (insecure)" : " (TLS)",
                                 f.security.client_ca_path.empty() ? "" : " with client certificates"));
  const bool ended = ServeUntilDone(f, *core);
  server->Shutdown(absl::Seconds(1));
  core->Stop();
  return ended;
}

}  // namespace

int RunServerCommand(const std::vector<std::string>& args) {
  ServerFlags f;
  FlagSet flags("server",
                "A federation server: waits for clients, runs rounds (sampling, FedSGD or FedAvg,\n"
                "example-weighted aggregation, a deadline for stragglers), evaluates the global\n"
                "model on the test split each round and checkpoints it atomically; restarted with\n"
                "the same --checkpoint it resumes after the last completed round. TLS by default.");
  AddFlags(flags, f);
  if (auto exit = ParseOrExit(flags, args)) return *exit;
  absl::StatusOr<bool> ended = Serve(f);
  if (!ended.ok()) return Fail("server", ended.status());
  return *ended ? 0 : 130;
}

}  // namespace biofed
