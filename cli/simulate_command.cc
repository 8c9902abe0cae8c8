// `biofed simulate`: baseline vs biomod federations, attacked while they train.
#include <cmath>
#include <cstdio>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "absl/strings/str_format.h"
#include "cli/cli_util.h"
#include "cli/commands.h"
#include "common/field_flags.h"
#include "common/files.h"
#include "common/log.h"
#include "common/runtime.h"
#include "common/status_macros.h"
#include "report/html_report.h"
#include "simulate/simulation.h"
#include "simulate/simulation_config.h"

namespace biofed {
namespace {

void PrintComparison(const SimulationConfig& c, const std::vector<FederationOutcome>& outcomes) {
  std::printf("\ntest accuracy per round\n%6s", "round");
  for (const auto& o : outcomes) std::printf(" %14s", o.name.c_str());
  std::printf("\n");
  for (int64_t r = 0; r < c.rounds; ++r) {
    std::printf("%6lld", static_cast<long long>(r + 1));
    for (const auto& o : outcomes) {
      if (r < static_cast<int64_t>(o.rounds.size())) std::printf(" %14.4f", o.rounds[r].test_accuracy);
    }
    std::printf("\n");
  }
  const std::string budget = IsClosedForm(c.attacker.config.kind)
                                 ? "closed form"
                                 : absl::StrFormat("%d iterations", c.attacker.config.iterations);
  std::printf("\nattacked updates (%s, %s, labels %s, %s server; mean over the batch after Hungarian matching)\n",
              AttackKindName(c.attacker.config.kind).c_str(), budget.c_str(),
              c.attacker.threat.labels_known ? "known" : "inferred",
              c.server_behaviour == ServerBehaviour::Kind::kHonest ? "honest" : "MALICIOUS imprinting");
  std::printf("%-14s %5s %6s %10s %10s %9s %7s %10s %9s %9s\n", "federation", "round", "client", "grad_err_%", "mse",
              "psnr_db", "ssim", "rel_err_%", "label_acc", "recovered");
  for (const auto& o : outcomes) {
    for (const ObservedAttack& a : o.attacks) {
      std::printf("%-14s %5lld %6s %10.4g %10.4g %9.2f %7.4f %10.2f %9.2f %9.2f\n", o.name.c_str(),
                  static_cast<long long>(a.round), a.client_id.c_str(), a.scored.gradient_error_percent, a.scored.mse,
                  a.scored.psnr, a.scored.ssim,
                  a.scored.relative_error_percent, a.scored.label_accuracy, a.scored.recovered_fraction);
    }
  }
}

// summary.json: the config, and per federation its rounds and attacked
// updates (each a record's JSON plus its image file); writes the images.
absl::StatusOr<nlohmann::json> Summary(const SimulationConfig& c, const std::vector<FederationOutcome>& outcomes,
                                       const std::string& out, double seconds) {
  nlohmann::json summary = {{"config", nlohmann::json::parse(SimulationConfigJson(c))},
                            {"code_version", CodeVersion()},
                            {"seconds", seconds}};
  for (const FederationOutcome& o : outcomes) {
    nlohmann::json rounds = nlohmann::json::array(), attacks = nlohmann::json::array();
    for (const RoundRow& r : o.rounds) rounds.push_back(RecordToJson(r));
    for (const ObservedAttack& a : o.attacks) {
      const std::string png_name = absl::StrFormat("%s-round%d-%s.png", o.name, a.round, a.client_id);
      if (!a.scored.png.bytes.empty()) {
        const std::string png_path = (std::filesystem::path(out) / "images" / png_name).string();
        if (auto s = WriteFileAtomically(png_path, a.scored.png.bytes); !s.ok()) return s;
      }
      nlohmann::json attack = RecordToJson(a);
      attack["image"] = "images/" + png_name;
      attacks.push_back(std::move(attack));
    }
    summary["federations"][o.name] = {{"run_id", o.run_id}, {"rounds", rounds}, {"attacks", attacks}};
    if (c.dp.enabled()) {
      // +infinity (clipping without noise guarantees nothing) is JSON null.
      summary["federations"][o.name]["dp_epsilon"] =
          std::isfinite(o.dp_epsilon) ? nlohmann::json(o.dp_epsilon) : nlohmann::json();
      summary["federations"][o.name]["dp_delta"] = kSimulationDpDelta;
    }
  }
  return summary;
}

// The config file named by --config, read before the flags are bound so
// that the flags override it; the defaults without one.
absl::StatusOr<SimulationConfig> ConfigFromFile(const std::vector<std::string>& args) {
  std::string path;
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--config" && i + 1 < args.size()) path = args[i + 1];
    if (args[i].rfind("--config=", 0) == 0) path = args[i].substr(9);
  }
  if (path.empty()) return SimulationConfig{};
  auto text = ReadFile(path);
  if (!text.ok()) return text.status();
  return ParseSimulationConfig(*text, path);
}

// Runs the simulation into `out`: study.db, summary.json, images/, report.html.
absl::Status Simulate(const SimulationConfig& c, const std::string& out) {
  BIOFED_RETURN_IF_ERROR(ValidateSimulationConfig(c));
  SetLogQuiet(true);
  const int64_t threads = ConfigureThreads(c.threads);
  BIOFED_RETURN_IF_ERROR(MakeDirectories(out));
  const std::string db_path = (std::filesystem::path(out) / "study.db").string();
  BIOFED_ASSIGN_OR_RETURN(std::unique_ptr<ResultsStore> store, ResultsStore::Open(db_path));
  std::fprintf(stderr, "biofed simulate: %zu federations of %lld clients x %lld rounds (%s, %s on %s), %lld threads\n",
               c.biomods.size(), static_cast<long long>(c.clients), static_cast<long long>(c.rounds), c.mode.c_str(),
               c.model.c_str(), c.dataset.c_str(), static_cast<long long>(threads));
  if (c.server_behaviour != ServerBehaviour::Kind::kHonest) {
    std::fprintf(stderr, "biofed simulate: MALICIOUS server (%s, %lld bins): every client is sent an imprinted model\n",
                 ServerBehaviourKindName(c.server_behaviour).c_str(),
                 static_cast<long long>(c.attacker.config.imprint_bins));
  }
  const absl::Time start = absl::Now();
  BIOFED_ASSIGN_OR_RETURN(std::vector<FederationOutcome> outcomes, RunSimulation(c, *store, [&](const std::string& line) {
    std::fprintf(stderr, "[%6.1fs] %s\n", absl::ToDoubleSeconds(absl::Now() - start), line.c_str());
  }));
  PrintComparison(c, outcomes);
  if (c.dp.enabled()) {
    for (const FederationOutcome& o : outcomes) {
      std::printf("%s: DP-SGD (clip %g, noise %g), epsilon %.3g at delta %g over the run\n", o.name.c_str(), c.dp.clip,
                  c.dp.noise_multiplier, o.dp_epsilon, kSimulationDpDelta);
    }
  }
  BIOFED_ASSIGN_OR_RETURN(nlohmann::json summary,
                          Summary(c, outcomes, out, absl::ToDoubleSeconds(absl::Now() - start)));
  const std::string summary_path = (std::filesystem::path(out) / "summary.json").string();
  BIOFED_RETURN_IF_ERROR(WriteFileAtomically(summary_path, summary.dump(2) + "\n"));
  store.reset();  // closes the database before the report reads it
  BIOFED_ASSIGN_OR_RETURN(std::string html, RenderHtmlReport(db_path));
  const std::string report_path = (std::filesystem::path(out) / "report.html").string();
  BIOFED_RETURN_IF_ERROR(WriteFileAtomically(report_path, html));
  std::printf("\nstudy:   %s\nsummary: %s\nimages:  %s/images/\nreport:  %s\n", db_path.c_str(),
              summary_path.c_str(), out.c_str(), report_path.c_str());
  return absl::OkStatus();
}

}  // namespace

int RunSimulateCommand(const std::vector<std::string>& args) {
  auto config = ConfigFromFile(args);
  if (!config.ok()) return Fail("simulate", config.status());
  SimulationConfig c = *config;
  std::string config_path, out = "results/simulate";
  bool print_config = false;
  FlagSet flags("simulate",
                "Runs one local federation per biomod setting (default: baseline and fl+wr+ws) over\n"
                "gRPC on loopback: K clients in threads, an auditor observing their updates and\n"
                "attack workers reconstructing the selected (round, client) updates while training\n"
                "goes on, scored against the true batch through the audit manifest. Prints the\n"
                "comparison; writes study.db (SQLite), summary.json and the reconstruction PNGs.\n"
                "A JSON --config sets any key (see --print-config); flags override it.");
  flags.AddString("config", &config_path, "JSON config file (keys as --print-config shows)");
  flags.AddBool("print-config", &print_config, "print the effective config as JSON and exit");
  flags.AddString("out", &out, "output directory");
  AddFieldFlags(flags, c, [](SimulationConfig& t, auto&& v) { VisitFields(t, v); }, SimulationConfigHelp());
  if (auto exit = ParseOrExit(flags, args)) return *exit;
  if (print_config) {
    std::printf("%s\n", SimulationConfigJson(c).c_str());
    return 0;
  }
  if (auto s = Simulate(c, out); !s.ok()) return Fail("simulate", s);
  return 0;
}

}  // namespace biofed
