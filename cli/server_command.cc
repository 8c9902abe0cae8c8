// `biofed server`: a federation server for real deployments.
#include <atomic>
#include <csignal>
#include <cstdio>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "cli/cli_util.h"
#include "cli/commands.h"
#include "client/biomod_options.h"
#include "common/files.h"
#include "common/log.h"
#include "common/runtime.h"
#include "server/federation_server.h"
#include "server/model_evaluator.h"
#include "wire/torch_bridge.h"

namespace biofed {
namespace {

std::atomic<bool> interrupted{false};
void OnSignal(int) { interrupted.store(true); }

}  // namespace

int RunServerCommand(const std::vector<std::string>& args) {
  std::string address = "0.0.0.0:50051", credentials_path, cert, key, client_ca;
  bool insecure = false, audit = false;
  std::string model = "mlp", dataset = "fashion-mnist", data_dir, mode = "fedavg", device = "auto";
  std::string checkpoint, out, run_id = "biofed";
  int64_t rounds = 5, min_clients = 2, min_available = 0, local_epochs = 1, batch = 32, seed = 0, threads = 0;
  int64_t gamma = 0;
  double fraction = 1.0, lr = 0.05, server_lr = 1.0, deadline_s = 300, client_timeout_s = 60, linger_s = 5;
  FlagSet flags("server",
                "A federation server: waits for clients, runs rounds (sampling, FedSGD or FedAvg,\n"
                "example-weighted aggregation, a deadline for stragglers), evaluates the global\n"
                "model on the test split each round and checkpoints it atomically; restarted with\n"
                "the same --checkpoint it resumes after the last completed round. TLS by default.");
  flags.AddString("address", &address, "host:port to listen on");
  flags.AddString("credentials", &credentials_path, "file of '<name> <roles> <token>' lines (required)");
  flags.AddString("tls-cert", &cert, "PEM certificate chain of the server");
  flags.AddString("tls-key", &key, "PEM private key of the server");
  flags.AddString("client-ca", &client_ca, "PEM CA of client certificates: turns on mutual TLS");
  flags.AddBool("insecure", &insecure, "plain TCP without TLS (tokens travel in clear)");
  flags.AddString("run-id", &run_id, "name of the run (recorded in the checkpoint)");
  flags.AddString("model", &model, "mlp, alexnet, resnet20, resnet32 or resnet56");
  flags.AddInt("ws-gamma", &gamma, "weight splitting factor of the model (0: no WS)");
  flags.AddString("dataset", &dataset, "dataset of the clients; its test split scores each round");
  flags.AddString("data-dir", &data_dir, "directory of the dataset files (default per dataset)");
  flags.AddInt("rounds", &rounds, "rounds to run");
  flags.AddDouble("fraction", &fraction, "fraction of live clients sampled per round");
  flags.AddInt("min-clients", &min_clients, "updates needed to close a round at its deadline");
  flags.AddInt("min-available", &min_available, "live clients needed to open a round (0: --min-clients)");
  flags.AddString("mode", &mode, "fedavg (local epochs) or fedsgd (one local step)");
  flags.AddDouble("lr", &lr, "the clients' SGD learning rate");
  flags.AddInt("local-epochs", &local_epochs, "FedAvg local epochs");
  flags.AddInt("batch", &batch, "local batch size (0: the whole partition)");
  flags.AddDouble("server-lr", &server_lr, "server step = server-lr * lr * mean pseudo-gradient");
  flags.AddDouble("round-deadline-s", &deadline_s, "seconds after which stragglers are dropped");
  flags.AddDouble("client-timeout-s", &client_timeout_s, "a client silent this long is not sampled");
  flags.AddInt("seed", &seed, "seed of the initial model and the client sampling");
  flags.AddString("checkpoint", &checkpoint, "checkpoint file, written after every round");
  flags.AddBool("audit-manifests", &audit, "testbed mode: collect audit manifests for scorers");
  flags.AddString("device", &device, "device of the per-round evaluation");
  flags.AddInt("threads", &threads, "LibTorch threads (0 = all cores)");
  flags.AddString("out", &out, "directory for summary.json (rewritten after each round)");
  flags.AddDouble("linger-s", &linger_s, "seconds to keep serving after the last round, so clients hear it ended");
  if (auto exit = ParseOrExit(flags, args)) return *exit;

  if (credentials_path.empty()) return Fail("server", absl::InvalidArgumentError("--credentials is required"));
  auto credentials = CredentialStore::Load(credentials_path);
  if (!credentials.ok()) return Fail("server", credentials.status());
  auto architecture = ParseArchitecture(model);
  if (!architecture.ok()) return Fail("server", architecture.status());
  auto training_mode = ParseTrainingMode(mode);
  if (!training_mode.ok()) return Fail("server", training_mode.status());
  ConfigureThreads(threads);
  auto data = LoadDataset(dataset, data_dir);
  if (!data.ok()) return Fail("server", data.status());
  ModelSpec spec{*architecture, {data->train.channels(), data->train.height(), data->train.width()},
                 data->train.num_classes, gamma};
  auto initial = BuildModel(spec, static_cast<uint64_t>(seed));
  if (!initial.ok()) return Fail("server", initial.status());
  auto evaluator = MakeModelEvaluator(spec, std::make_shared<const Dataset>(data->test), data->norm, device);
  if (!evaluator.ok()) return Fail("server", evaluator.status());

  FederationConfig config;
  config.run_id = run_id;
  config.model_spec_json = ModelSpecToJson(spec);
  config.dataset = data->train.name;
  config.rounds = rounds;
  config.fraction = fraction;
  config.min_clients = min_clients;
  config.min_available = min_available;
  config.mode = *training_mode;
  config.lr = lr;
  config.local_epochs = local_epochs;
  config.batch_size = batch;
  config.server_lr = server_lr;
  config.round_deadline = absl::Seconds(deadline_s);
  config.client_timeout = absl::Seconds(client_timeout_s);
  config.seed = static_cast<uint64_t>(seed);
  config.checkpoint_path = checkpoint;
  config.collect_audit_manifests = audit;
  // Auditors may lag behind a round or two; keep the updates they have not read.
  if (credentials->AnyoneHas(Role::kAuditor)) config.observation_log_limit = 256;
  auto core = FederationCore::Create(config, ModelStateTable(*initial), *evaluator);
  if (!core.ok()) return Fail("server", core.status());
  const std::string summary_path = out.empty() ? "" : (std::filesystem::path(out) / "summary.json").string();
  (*core)->SetRoundListener([&](const RoundSummary& s) {
    std::printf("round %lld: test accuracy %.4f, %zu updates, %zu dropped, %.1f s\n",
                static_cast<long long>(s.round), s.test_accuracy, s.participants.size(), s.dropped.size(), s.seconds);
    std::fflush(stdout);
    if (summary_path.empty()) return;
    const nlohmann::json summary = {{"run_id", run_id}, {"model_spec", nlohmann::json::parse(config.model_spec_json)},
                                    {"dataset", config.dataset}, {"mode", mode}, {"rounds", rounds},
                                    {"history", nlohmann::json::parse(RoundHistoryJson((*core)->history()))}};
    const absl::Status written = WriteFileAtomically(summary_path, summary.dump(2) + "\n");
    if (!written.ok()) LogError("server", written.ToString());
  });
  ServerSecurity security{insecure, cert, key, client_ca};
  auto server = FederationServer::Start(address, security, core->get(), std::move(*credentials));
  if (!server.ok()) return Fail("server", server.status());
  LogInfo("server", absl::StrCat("listening on port ", (*server)->port(), insecure ? " (insecure)" : " (TLS)",
                                 client_ca.empty() ? "" : " with client certificates"));
  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);
  (*core)->Start();
  while (!interrupted.load() && !(*core)->WaitUntilFinished(absl::Milliseconds(200))) {
  }
  if ((*core)->finished()) {
    const absl::Time end = absl::Now() + absl::Seconds(linger_s);
    while (!interrupted.load() && absl::Now() < end) absl::SleepFor(absl::Milliseconds(100));
  } else {
    LogWarning("server", "interrupted; completed rounds are in the checkpoint");
  }
  (*server)->Shutdown(absl::Seconds(1));
  (*core)->Stop();
  return (*core)->finished() ? 0 : 130;
}

}  // namespace biofed
