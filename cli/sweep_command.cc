// `biofed sweep`: the gradient-inversion grid, resumable, into one study.
#include <atomic>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "cli/cli_util.h"
#include "cli/commands.h"
#include "common/files.h"
#include "common/log.h"
#include "common/runtime.h"
#include "common/status_macros.h"
#include "report/html_report.h"
#include "report/sweep_report.h"
#include "sweep/sweep_cells.h"
#include "sweep/sweep_config.h"
#include "sweep/sweep_runner.h"
#include "sweep/sweep_shard.h"
#include "sweep/sweep_store.h"

namespace biofed {
namespace {

std::atomic<bool> stop_requested{false};

// The first Ctrl-C or SIGTERM lets the running cells finish and stops; a
// second one kills the process (the study stays consistent either way).
void OnSignal(int signal_number) {
  stop_requested.store(true);
  std::signal(signal_number, SIG_DFL);
}

std::string FlagValue(const std::vector<std::string>& args, const std::string& name) {
  std::string value;
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--" + name && i + 1 < args.size()) value = args[i + 1];
    if (args[i].rfind("--" + name + "=", 0) == 0) value = args[i].substr(name.size() + 3);
  }
  return value;
}

// The preset, then the config file over it (the flags come last).
absl::StatusOr<SweepConfig> PresetAndFile(const std::vector<std::string>& args) {
  std::string preset = FlagValue(args, "preset");
  const std::string config_path = FlagValue(args, "config");
  BIOFED_ASSIGN_OR_RETURN(SweepConfig c, SweepPreset(preset.empty() ? "quick" : preset));
  if (config_path.empty()) return c;
  BIOFED_ASSIGN_OR_RETURN(std::string text, ReadFile(config_path));
  return ParseSweepConfig(text, config_path, c);
}

struct SweepFlags {
  std::string preset = "quick";
  std::string config_path;
  std::string out;
  SweepShard shard;
  int64_t jobs = 0;
  bool print_config = false, dry_run = false;
};

void AddFlags(FlagSet& flags, SweepFlags& f, SweepConfig& c) {
  flags.AddString("preset", &f.preset, "smoke, quick, paper-cpu or paper");
  flags.AddString("config", &f.config_path, "JSON config applied over the preset (keys as --print-config shows)");
  flags.AddString("out", &f.out, "study directory (default: results/sweep-PRESET, a shard's: .../shard-K-of-N)");
  flags.AddInt("jobs", &f.jobs, "cells run in parallel (0 = one per core); results do not depend on it");
  flags.AddParsed("shard", "1/1",
                  "K/N: run only the K-th of N parts of the plan (balanced by expected cost; a training with "
                  "its cells), for a job array; join the shards' studies with `biofed study merge`",
                  [&f](const std::string& text) -> absl::Status {
                    BIOFED_ASSIGN_OR_RETURN(f.shard, ParseSweepShard(text));
                    return absl::OkStatus();
                  });
  flags.AddString("dataset", &c.dataset, "fashion-mnist, mnist, cifar10 or cifar100");
  flags.AddString("data-dir", &c.data_dir, "directory of the dataset files (default per dataset)");
  flags.AddString("device", &c.device, "cpu or cuda: where the training federations and the attacks run");
  flags.AddBool("print-config", &f.print_config, "print the effective config as JSON and exit");
  flags.AddBool("dry-run", &f.dry_run, "print how many cells and trainings there are (in the shard), and exit");
}

std::string OutDirectory(const SweepFlags& f) {
  if (!f.out.empty()) return f.out;
  const std::string whole = "results/sweep-" + f.preset;
  if (f.shard.whole()) return whole;
  return absl::StrCat(whole, "/shard-", f.shard.index, "-of-", f.shard.count);
}

// The summary table and report of a finished study.
absl::Status Report(const std::string& db_path, const std::string& out) {
  BIOFED_ASSIGN_OR_RETURN(std::string table, SweepSummaryText(db_path));
  std::printf("\nreconstruction quality (mean over seeds and batch sizes)\n%s", table.c_str());
  BIOFED_ASSIGN_OR_RETURN(std::string html, RenderHtmlReport(db_path));
  const std::string report_path = (std::filesystem::path(out) / "report.html").string();
  BIOFED_RETURN_IF_ERROR(WriteFileAtomically(report_path, html));
  std::printf("\nstudy:  %s\nreport: %s\n", db_path.c_str(), report_path.c_str());
  return absl::OkStatus();
}

void PrintThroughput(const SweepCounts& counts, double seconds) {
  std::fprintf(stderr, "biofed sweep: ran %lld trainings and %lld cells in %.0f s\n",
               static_cast<long long>(counts.trainings_run), static_cast<long long>(counts.cells_run), seconds);
  for (const auto& [model, times] : counts.by_model) {
    std::fprintf(stderr, "biofed sweep: %s: %.0f cells per hour on %lld workers (%lld cells, %.1f s each)\n",
                 model.c_str(), CellsPerHour(times, counts.workers), static_cast<long long>(counts.workers),
                 static_cast<long long>(times.cells), times.seconds / static_cast<double>(times.cells));
  }
  if (counts.cells_run > 0 && counts.cell_phase_seconds > 0) {
    std::fprintf(stderr, "biofed sweep: all models: %.0f cells per hour (%lld cells in %.0f s)\n",
                 3600.0 * static_cast<double>(counts.cells_run) / counts.cell_phase_seconds,
                 static_cast<long long>(counts.cells_run), counts.cell_phase_seconds);
  }
}

// --dry-run: the size of the plan (or of the shard) and its expected work.
void PrintPlan(const SweepConfig& c, const SweepShard& shard) {
  const std::vector<AttackCell> all = ExpandCells(c);
  const std::vector<AttackCell> cells = CellsOfShard(c, all, shard);
  const std::vector<double> seconds = ExpectedShardSeconds(c, all, shard.count);
  std::printf("%zu attack cells, %zu training federations\n", cells.size(), TrainingJobsFor(cells).size());
  const double expected = seconds[static_cast<size_t>(shard.index - 1)];
  std::printf("expected work: about %.1f %s on one core (a rough guide, sweep/cell_cost.h)\n",
              expected < 3600 ? expected / 60 : expected / 3600, expected < 3600 ? "minutes" : "hours");
}

// Runs (or resumes) the sweep, or its shard, into OUT/study.db. Returns
// whether it finished (false: interrupted, resumable).
absl::StatusOr<bool> Sweep(const SweepConfig& c, const SweepFlags& f) {
  const int64_t jobs = f.jobs > 0 ? f.jobs : std::max<int64_t>(1, std::thread::hardware_concurrency());
  const std::string out = OutDirectory(f);
  BIOFED_RETURN_IF_ERROR(ResolveDevice(c.device).status());  // before a study is made
  SetLogQuiet(true);
  BIOFED_RETURN_IF_ERROR(MakeDirectories(out));
  const std::string db_path = (std::filesystem::path(out) / "study.db").string();
  BIOFED_ASSIGN_OR_RETURN(std::unique_ptr<SweepStore> store, SweepStore::Open(db_path, SweepSharedSettingsJson(c)));
  BIOFED_RETURN_IF_ERROR(store->AddInvocation(SweepConfigJson(c), f.shard.Name()));
  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);
  const absl::Time start = absl::Now();
  absl::StatusOr<SweepCounts> counts = RunSweep(
      c, *store, jobs, stop_requested,
      [&](const std::string& line) {
        std::fprintf(stderr, "[%6.0fs] %s\n", absl::ToDoubleSeconds(absl::Now() - start), line.c_str());
      },
      f.shard);
  store.reset();  // closes the database before the report reads it
  BIOFED_RETURN_IF_ERROR(counts.status());
  PrintThroughput(*counts, absl::ToDoubleSeconds(absl::Now() - start));
  if (counts->interrupted) {
    std::fprintf(stderr,
                 "biofed sweep: interrupted with %lld of %lld cells in %s; run the same command again to resume\n",
                 static_cast<long long>(counts->cells_already_done + counts->cells_run),
                 static_cast<long long>(counts->cells), db_path.c_str());
    return false;
  }
  if (!f.shard.whole()) {
    std::printf("shard %s finished: %s\njoin the shards with: biofed study merge OUT.db SHARD.db...\n",
                f.shard.Name().c_str(), db_path.c_str());
    return true;
  }
  BIOFED_RETURN_IF_ERROR(Report(db_path, out));
  return true;
}

}  // namespace

int RunSweepCommand(const std::vector<std::string>& args) {
  auto base = PresetAndFile(args);
  if (!base.ok()) return Fail("sweep", base.status());
  SweepConfig c = *base;
  SweepFlags f;
  FlagSet flags("sweep",
                "The paper's gradient-inversion experiment as a grid: models x mechanism subsets\n"
                "(all 8 of FL/WR/WS) x victim state (untrained, or trained by a FedSGD federation)\n"
                "x attacks x batch sizes x seeds x defenses (clipped Gaussian noise, top-k). Each\n"
                "cell: a victim client sends one defended update, the attacker reconstructs its\n"
                "batch, the reconstruction is scored against the truth. Cells run in parallel and\n"
                "land in OUT/study.db as they finish; rerunning the same command resumes (a\n"
                "finished cell is never recomputed). Ends with a table and OUT/report.html.\n"
                "Presets: smoke (a regression check, under a minute on 2 cores), quick (about 15\n"
                "minutes on 2 cores), paper-cpu (the paper's questions with 5 seeds: every share,\n"
                "the WR-aware attackers, the paper's pipeline; an evening on 2 cores) and paper\n"
                "(the full grid on CIFAR-10).\n"
                "A JSON --config sets any key over the preset (see --print-config).");
  AddFlags(flags, f, c);
  if (auto exit = ParseOrExit(flags, args)) return *exit;
  if (f.print_config) {
    std::printf("%s\n", SweepConfigJson(c).c_str());
    return 0;
  }
  if (auto s = ValidateSweepConfig(c); !s.ok()) return Fail("sweep", s);
  if (f.dry_run) {
    PrintPlan(c, f.shard);
    return 0;
  }
  absl::StatusOr<bool> finished = Sweep(c, f);
  if (!finished.ok()) return Fail("sweep", finished.status());
  return *finished ? 0 : 130;
}

}  // namespace biofed
