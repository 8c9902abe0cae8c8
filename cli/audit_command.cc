// `biofed audit`: the auditor of a real deployment. Observes the updates of
// the selected rounds and clients, attacks each, scores it against the true
// batch (audit manifests; the auditor holds the same dataset), and writes
// the study and its report.
#include <cstdio>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "attack/observer_client.h"
#include "cli/cli_util.h"
#include "cli/commands.h"
#include "common/field_flags.h"
#include "common/files.h"
#include "common/log.h"
#include "common/runtime.h"
#include "experiment/attack_and_score.h"
#include "report/html_report.h"
#include "simulate/results_store.h"

namespace biofed {

int RunAuditCommand(const std::vector<std::string>& args) {
  std::string server = "localhost:50051", ca, cert, key, server_name, token_file;
  bool insecure = false;
  std::string dataset = "fashion-mnist", data_dir, rounds_list, clients_list, out = "results/audit", device = "auto";
  int64_t threads = 0, seed = 0;
  double max_unavailable_s = 300;
  AttackSpec attacker;
  FlagSet flags("audit",
                "The auditor of a federation: observes clients' updates on the authorised observer\n"
                "stream (token with the auditor role), attacks each selected update while the\n"
                "federation runs, scores it against the true batch through the audit manifest\n"
                "(scorer role; the server must run with --audit-manifests) and writes study.db\n"
                "and report.html. Ends when the federation does.");
  flags.AddString("server", &server, "host:port of the federation server");
  flags.AddString("ca", &ca, "PEM of the CA that signed the server");
  flags.AddString("cert", &cert, "PEM client certificate, for mutual TLS");
  flags.AddString("key", &key, "PEM client key, for mutual TLS");
  flags.AddString("server-name", &server_name, "name to check the server certificate against");
  flags.AddBool("insecure", &insecure, "plain TCP without TLS");
  flags.AddString("token-file", &token_file, "file holding the auditor's credential (required)");
  flags.AddString("dataset", &dataset, "the federation's dataset (the scorer rebuilds true batches from it)");
  flags.AddString("data-dir", &data_dir, "directory of the dataset files (default per dataset)");
  flags.AddString("rounds", &rounds_list, "comma list of rounds to attack (empty: every round)");
  flags.AddString("clients", &clients_list, "comma list of client ids to attack (empty: every client)");
  AddFieldFlags(flags, attacker, [](AttackSpec& t, auto&& v) { VisitFields(t, v); }, AttackSettingHelp());
  flags.AddInt("seed", &seed, "attack seed");
  flags.AddString("out", &out, "output directory (study.db, report.html)");
  flags.AddString("device", &device, "auto, cpu, cuda or cuda:N");
  flags.AddInt("threads", &threads, "LibTorch threads (0 = all cores)");
  flags.AddDouble("max-unavailable-s", &max_unavailable_s, "give up after the server is unreachable this long");
  if (auto exit = ParseOrExit(flags, args)) return *exit;
  if (auto s = ValidateAttackSpec(attacker); !s.ok()) return Fail("audit", s);
  AttackRequest request_template;
  request_template.spec = attacker;
  request_template.name = AttackSpecName(attacker, attacker);
  request_template.seed = static_cast<uint64_t>(seed);
  if (token_file.empty()) return Fail("audit", absl::InvalidArgumentError("--token-file is required"));
  auto token = ReadFile(token_file);
  if (!token.ok()) return Fail("audit", token.status());
  v1::ObserveRequest request;
  auto rounds = ParseIntList("rounds", rounds_list);
  if (!rounds.ok()) return Fail("audit", rounds.status());
  for (int64_t round : *rounds) request.add_rounds(round);
  for (absl::string_view c : absl::StrSplit(clients_list, ',', absl::SkipEmpty())) request.add_client_ids(std::string(c));
  ConfigureThreads(threads);
  auto torch_device = ResolveDevice(device);
  if (!torch_device.ok()) return Fail("audit", torch_device.status());
  auto data = LoadDataset(dataset, data_dir);
  if (!data.ok()) return Fail("audit", data.status());
  if (auto s = MakeDirectories(out); !s.ok()) return Fail("audit", s);
  const std::string db_path = (std::filesystem::path(out) / "study.db").string();
  auto store = ResultsStore::Open(db_path);
  if (!store.ok()) return Fail("audit", store.status());
  nlohmann::json config = {{"server", server}, {"dataset", dataset}, {"rounds", rounds_list},
                           {"clients", clients_list}, {"seed", seed}};
  config.update(RecordToJson(attacker));
  auto run_id = (*store)->AddRun("audit", "observed", config.dump(2));
  if (!run_id.ok()) return Fail("audit", run_id.status());

  ObserverOptions observer;
  observer.address = server;
  observer.security = ChannelSecurity{insecure, ca, cert, key, server_name};
  observer.token = std::string(absl::StripAsciiWhitespace(*token));
  observer.norm = data->norm;
  int64_t attacked = 0;
  absl::Status failure;
  auto session = ObserverSession::Open(observer);
  if (!session.ok()) return Fail("audit", session.status());
  absl::Time last_contact = absl::Now();
  auto on_record = [&](UpdateRecord record) {
    last_contact = absl::Now();
    auto manifest = session->FetchAuditManifest(record.round, record.client_id);
    if (!manifest.ok()) {
      failure = manifest.status();
      return false;
    }
    auto audit = AuditFromManifest(*manifest, *data);
    if (!audit.ok()) {
      failure = audit.status();
      return false;
    }
    auto outcome = AttackAndScore(request_template, record, *audit, *torch_device);
    if (!outcome.ok()) {
      failure = outcome.status();
      return false;
    }
    const ObservedAttack row{record.round, record.client_id, outcome->scored};
    if (auto s = (*store)->AddAttack(*run_id, row); !s.ok()) {
      failure = s;
      return false;
    }
    ++attacked;
    std::printf("round %lld %s: %s PSNR %.2f dB, SSIM %.3f, relative error %.1f%%, label accuracy %.2f\n",
                static_cast<long long>(row.round), row.client_id.c_str(), row.scored.attack.c_str(), row.scored.psnr,
                row.scored.ssim, row.scored.relative_error_percent, row.scored.label_accuracy);
    std::fflush(stdout);
    return true;
  };
  // Waits for the server, and reconnects after a restart (the observation
  // log restarts with the server; updates accepted while it was down are none).
  while (true) {
    const absl::Status observed = session->Observe(request, on_record);
    if (!failure.ok()) return Fail("audit", failure);
    if (observed.ok()) break;
    if (observed.code() != absl::StatusCode::kUnavailable) return Fail("audit", observed);
    if (absl::Now() - last_contact > absl::Seconds(max_unavailable_s)) return Fail("audit", observed);
    LogWarning("audit", "server unavailable, retrying");
    absl::SleepFor(absl::Seconds(1));
  }
  if (auto s = (*store)->MarkFinished(*run_id); !s.ok()) return Fail("audit", s);
  store->reset();
  auto html = RenderHtmlReport(db_path);
  if (!html.ok()) return Fail("audit", html.status());
  const std::string report_path = (std::filesystem::path(out) / "report.html").string();
  if (auto s = WriteFileAtomically(report_path, *html); !s.ok()) return Fail("audit", s);
  std::printf("%lld updates attacked\nstudy:  %s\nreport: %s\n", static_cast<long long>(attacked), db_path.c_str(),
              report_path.c_str());
  return 0;
}

}  // namespace biofed
