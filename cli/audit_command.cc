// `biofed audit`: the auditor of a real deployment. Observes the updates of
// the selected rounds and clients, attacks each, scores it against the true
// batch (audit manifests; the auditor holds the same dataset), and writes
// the study and its report.
#include <cstdio>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "absl/strings/str_split.h"
#include "attack/observer_client.h"
#include "cli/cli_util.h"
#include "cli/commands.h"
#include "cli/connection_flags.h"
#include "cli/flag_groups.h"
#include "common/files.h"
#include "common/runtime.h"
#include "common/status_macros.h"
#include "experiment/attack_and_score.h"
#include "report/html_report.h"
#include "simulate/results_store.h"

namespace biofed {
namespace {

struct AuditFlags {
  ConnectionFlags connection;
  DataFlags data;
  std::string rounds, clients;
  AttackSpec attacker;
  int64_t seed = 0;
  ComputeFlags compute;
  std::string out = "results/audit";
};

void AddFlags(FlagSet& flags, AuditFlags& f) {
  f.connection.max_unavailable_s = 300;
  AddConnectionFlags(flags, &f.connection, /*token_flag=*/false);
  AddDataFlags(flags, &f.data);
  flags.AddString("rounds", &f.rounds, "comma list of rounds to attack (empty: every round)");
  flags.AddString("clients", &f.clients, "comma list of client ids to attack (empty: every client)");
  AddAttackerFlags(flags, &f.attacker);
  flags.AddInt("seed", &f.seed, "attack seed");
  AddComputeFlags(flags, &f.compute);
  flags.AddString("out", &f.out, "output directory (study.db, report.html)");
}

absl::StatusOr<v1::ObserveRequest> Selection(const AuditFlags& f) {
  v1::ObserveRequest request;
  BIOFED_ASSIGN_OR_RETURN(std::vector<int64_t> rounds, ParseIntList("rounds", f.rounds));
  for (int64_t round : rounds) request.add_rounds(round);
  for (absl::string_view c : absl::StrSplit(f.clients, ',', absl::SkipEmpty())) request.add_client_ids(std::string(c));
  return request;
}

// Attacks, scores and stores every observed update until the federation ends.
absl::Status Observe(const AuditFlags& f, const DatasetSplits& data, ResultsStore& store, int64_t run_id) {
  BIOFED_ASSIGN_OR_RETURN(const torch::Device device, ResolveDevice(f.compute.device));
  BIOFED_ASSIGN_OR_RETURN(v1::ObserveRequest request, Selection(f));
  ObserverOptions observer;
  observer.address = f.connection.server;
  observer.security = f.connection.security;
  BIOFED_ASSIGN_OR_RETURN(observer.token, ReadToken(f.connection));
  observer.norm = data.norm;
  BIOFED_ASSIGN_OR_RETURN(ObserverSession session, ObserverSession::Open(observer));
  const AttackRequest attack{f.attacker, AttackSpecName(f.attacker, f.attacker), static_cast<uint64_t>(f.seed), 0, {}};
  int64_t attacked = 0;
  BIOFED_RETURN_IF_ERROR(RunAuditor(session, request, data, absl::Seconds(f.connection.max_unavailable_s),
                                    [&](CaptureFile observed) -> absl::Status {
    BIOFED_ASSIGN_OR_RETURN(AttackOutcome outcome, AttackAndScore(attack, observed.record, *observed.audit, device));
    const ObservedAttack row{observed.record.round, observed.record.client_id, std::move(outcome.scored)};
    BIOFED_RETURN_IF_ERROR(store.AddAttack(run_id, row));
    ++attacked;
    std::printf("round %lld %s: %s PSNR %.2f dB, SSIM %.3f, relative error %.1f%%, label accuracy %.2f\n",
                static_cast<long long>(row.round), row.client_id.c_str(), row.scored.attack.c_str(), row.scored.psnr,
                row.scored.ssim, row.scored.relative_error_percent, row.scored.label_accuracy);
    std::fflush(stdout);
    return absl::OkStatus();
  }));
  std::printf("%lld updates attacked\n", static_cast<long long>(attacked));
  return absl::OkStatus();
}

absl::Status Audit(const AuditFlags& f) {
  BIOFED_RETURN_IF_ERROR(ValidateAttackSpec(f.attacker));
  ConfigureThreads(f.compute.threads);
  BIOFED_ASSIGN_OR_RETURN(DatasetSplits data, LoadData(f.data));
  BIOFED_RETURN_IF_ERROR(MakeDirectories(f.out));
  const std::string db_path = (std::filesystem::path(f.out) / "study.db").string();
  BIOFED_ASSIGN_OR_RETURN(std::unique_ptr<ResultsStore> store, ResultsStore::Open(db_path));
  nlohmann::json config = {{"server", f.connection.server}, {"dataset", f.data.dataset}, {"rounds", f.rounds},
                           {"clients", f.clients}, {"seed", f.seed}};
  config.update(RecordToJson(f.attacker));
  BIOFED_ASSIGN_OR_RETURN(int64_t run_id, store->AddRun("audit", "observed", config.dump(2)));
  BIOFED_RETURN_IF_ERROR(Observe(f, data, *store, run_id));
  BIOFED_RETURN_IF_ERROR(store->MarkFinished(run_id));
  store.reset();
  BIOFED_ASSIGN_OR_RETURN(std::string html, RenderHtmlReport(db_path));
  const std::string report_path = (std::filesystem::path(f.out) / "report.html").string();
  BIOFED_RETURN_IF_ERROR(WriteFileAtomically(report_path, html));
  std::printf("study:  %s\nreport: %s\n", db_path.c_str(), report_path.c_str());
  return absl::OkStatus();
}

}  // namespace

int RunAuditCommand(const std::vector<std::string>& args) {
  AuditFlags f;
  FlagSet flags("audit",
                "The auditor of a federation: observes clients' updates on the authorised observer\n"
                "stream (token with the auditor role), attacks each selected update while the\n"
                "federation runs, scores it against the true batch through the audit manifest\n"
                "(scorer role; the server must run with --audit-manifests) and writes study.db\n"
                "and report.html. Ends when the federation does.");
  AddFlags(flags, f);
  if (auto exit = ParseOrExit(flags, args)) return *exit;
  if (auto s = Audit(f); !s.ok()) return Fail("audit", s);
  return 0;
}

}  // namespace biofed
