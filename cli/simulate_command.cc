// `biofed simulate`: baseline vs biomod federations, attacked while they train.
#include <cstdio>
#include <filesystem>

#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include <nlohmann/json.hpp>
#include "cli/cli_util.h"
#include "cli/commands.h"
#include "common/files.h"
#include "common/log.h"
#include "common/runtime.h"
#include "report/html_report.h"
#include "simulate/simulation.h"
#include "simulate/simulation_config.h"

namespace biofed {
namespace {

std::vector<std::string> SplitList(const std::string& text, char separator) {
  return absl::StrSplit(text, separator, absl::SkipEmpty());
}

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
  std::printf("\nattacked updates (%s, %lld iterations, labels %s; mean over the batch after Hungarian matching)\n",
              c.attack.c_str(), static_cast<long long>(c.attack_iterations), c.labels.c_str());
  std::printf("%-14s %5s %6s %10s %9s %7s %10s %9s\n", "federation", "round", "client", "mse", "psnr_db", "ssim",
              "rel_err_%", "label_acc");
  for (const auto& o : outcomes) {
    for (const AttackRow& a : o.attacks) {
      std::printf("%-14s %5lld %6s %10.4g %9.2f %7.4f %10.2f %9.2f\n", o.name.c_str(),
                  static_cast<long long>(a.round), a.client_id.c_str(), a.mse, a.psnr, a.ssim,
                  a.relative_error_percent, a.label_accuracy);
    }
  }
}

}  // namespace

int RunSimulateCommand(const std::vector<std::string>& args) {
  // The config file is read before the flags are bound, so flags override it.
  std::string config_path;
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--config" && i + 1 < args.size()) config_path = args[i + 1];
    if (args[i].rfind("--config=", 0) == 0) config_path = args[i].substr(9);
  }
  SimulationConfig c;
  if (!config_path.empty()) {
    auto text = ReadFile(config_path);
    if (!text.ok()) return Fail("simulate", text.status());
    auto parsed = ParseSimulationConfig(*text, config_path);
    if (!parsed.ok()) return Fail("simulate", parsed.status());
    c = *parsed;
  }
  std::string biomods = absl::StrJoin(c.biomods, "/");
  std::string attack_rounds = absl::StrJoin(c.attack_rounds, ",");
  std::string out = "results/simulate";
  bool print_config = false;
  int64_t seed = static_cast<int64_t>(c.seed);
  FlagSet flags("simulate",
                "Runs one local federation per biomod setting (default: baseline and fl,wr,ws) over\n"
                "gRPC on loopback: K clients in threads, an auditor observing their updates and\n"
                "attack workers reconstructing the selected (round, client) updates while training\n"
                "goes on, scored against the true batch through the audit manifest. Prints the\n"
                "comparison; writes study.db (SQLite), summary.json and the reconstruction PNGs.\n"
                "A JSON --config sets any key (see --print-config); flags override it.");
  flags.AddString("config", &config_path, "JSON config file (keys as --print-config shows)");
  flags.AddBool("print-config", &print_config, "print the effective config as JSON and exit");
  flags.AddString("out", &out, "output directory");
  flags.AddString("dataset", &c.dataset, "fashion-mnist, mnist, cifar10 or cifar100");
  flags.AddString("data-dir", &c.data_dir, "directory of the dataset files (default per dataset)");
  flags.AddString("model", &c.model, "mlp, alexnet, resnet20, resnet32 or resnet56");
  flags.AddInt("clients", &c.clients, "clients per federation");
  flags.AddInt("samples-per-client", &c.samples_per_client, "first N samples of each partition (0: all)");
  flags.AddString("partition", &c.partition, "iid, dirichlet or shards");
  flags.AddInt("rounds", &c.rounds, "rounds per federation");
  flags.AddString("mode", &c.mode, "fedsgd (one local step) or fedavg");
  flags.AddDouble("lr", &c.lr, "client learning rate");
  flags.AddInt("local-epochs", &c.local_epochs, "FedAvg local epochs");
  flags.AddInt("batch", &c.batch, "local batch size (0: whole partition)");
  flags.AddInt("seed", &seed, "seed of everything (model, partition, client state, attacks)");
  flags.AddString("biomods", &biomods, "federations to run, '/'-separated: none/fl,wr,ws");
  flags.AddString("attack", &c.attack, "ig, dlg, analytic or fedavg");
  flags.AddInt("attack-iterations", &c.attack_iterations, "attack optimisation steps");
  flags.AddString("labels", &c.labels, "attacker's labels: inferred or known");
  flags.AddBool("fl-factors-known", &c.fl_factors_known, "adaptive attacker told each client's FL factors");
  flags.AddString("attack-rounds", &attack_rounds, "comma list of rounds whose updates are attacked");
  flags.AddInt("attacked-clients", &c.attacked_clients, "attack the first N clients' updates");
  flags.AddInt("attack-workers", &c.attack_workers, "parallel attack workers");
  flags.AddInt("threads", &c.threads, "LibTorch threads (0 = all cores)");
  flags.AddString("device", &c.device, "auto, cpu, cuda or cuda:N");
  if (auto exit = ParseOrExit(flags, args)) return *exit;
  c.seed = static_cast<uint64_t>(seed);
  c.biomods = SplitList(biomods, '/');
  auto rounds = ParseIntList("attack-rounds", attack_rounds);
  if (!rounds.ok()) return Fail("simulate", rounds.status());
  c.attack_rounds = *rounds;
  if (!flags.WasSet("attack-rounds") && config_path.empty()) c.attack_rounds = {1, c.rounds};
  if (print_config) {
    std::printf("%s\n", SimulationConfigJson(c).c_str());
    return 0;
  }
  if (auto s = ValidateSimulationConfig(c); !s.ok()) return Fail("simulate", s);
  SetLogQuiet(true);
  const int64_t threads = ConfigureThreads(c.threads);
  if (auto s = MakeDirectories(out); !s.ok()) return Fail("simulate", s);
  const std::string db_path = (std::filesystem::path(out) / "study.db").string();
  auto store = ResultsStore::Open(db_path);
  if (!store.ok()) return Fail("simulate", store.status());
  std::fprintf(stderr, "biofed simulate: %zu federations of %lld clients x %lld rounds (%s, %s on %s), %lld threads\n",
               c.biomods.size(), static_cast<long long>(c.clients), static_cast<long long>(c.rounds), c.mode.c_str(),
               c.model.c_str(), c.dataset.c_str(), static_cast<long long>(threads));
  const absl::Time start = absl::Now();
  auto outcomes = RunSimulation(c, **store, [&](const std::string& line) {
    std::fprintf(stderr, "[%6.1fs] %s\n", absl::ToDoubleSeconds(absl::Now() - start), line.c_str());
  });
  if (!outcomes.ok()) return Fail("simulate", outcomes.status());
  PrintComparison(c, *outcomes);
  nlohmann::json summary = {{"config", nlohmann::json::parse(SimulationConfigJson(c))},
                            {"code_version", CodeVersion()},
                            {"seconds", absl::ToDoubleSeconds(absl::Now() - start)}};
  for (const FederationOutcome& o : *outcomes) {
    nlohmann::json rounds = nlohmann::json::array(), attacks = nlohmann::json::array();
    for (const RoundRow& r : o.rounds) {
      rounds.push_back({{"round", r.round}, {"test_accuracy", r.test_accuracy}, {"train_loss", r.train_loss},
                        {"participants", r.participants}, {"dropped", r.dropped}});
    }
    for (const AttackRow& a : o.attacks) {
      const std::string png_name = absl::StrFormat("%s-round%d-%s.png", o.name, a.round, a.client_id);
      const std::string png_path = (std::filesystem::path(out) / "images" / png_name).string();
      if (!a.png.empty()) {
        if (auto s = WriteFileAtomically(png_path, a.png); !s.ok()) return Fail("simulate", s);
      }
      attacks.push_back({{"round", a.round}, {"client", a.client_id}, {"attack", a.attack},
                         {"iterations", a.iterations}, {"labels", a.labels}, {"fl_factors_known", a.fl_factors_known},
                         {"batch_size", a.batch_size}, {"local_steps", a.local_steps}, {"mse", a.mse},
                         {"psnr", a.psnr}, {"ssim", a.ssim}, {"relative_error_percent", a.relative_error_percent},
                         {"label_accuracy", a.label_accuracy},
                         {"final_matching_objective", {{"name", a.objective_name}, {"value", a.objective}}},
                         {"image", "images/" + png_name}});
    }
    summary["federations"][o.name] = {{"run_id", o.run_id}, {"rounds", rounds}, {"attacks", attacks}};
  }
  const std::string summary_path = (std::filesystem::path(out) / "summary.json").string();
  if (auto s = WriteFileAtomically(summary_path, summary.dump(2) + "\n"); !s.ok()) return Fail("simulate", s);
  store->reset();  // closes the database before the report reads it
  auto html = RenderHtmlReport(db_path);
  if (!html.ok()) return Fail("simulate", html.status());
  const std::string report_path = (std::filesystem::path(out) / "report.html").string();
  if (auto s = WriteFileAtomically(report_path, *html); !s.ok()) return Fail("simulate", s);
  std::printf("\nstudy:   %s\nsummary: %s\nimages:  %s/images/\nreport:  %s\n", db_path.c_str(),
              summary_path.c_str(), out.c_str(), report_path.c_str());
  return 0;
}

}  // namespace biofed
