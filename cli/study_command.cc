// `biofed study merge|info`: join the studies of a sharded sweep, and say
// what a study holds against its plan.
#include <cstdio>

#include "absl/strings/str_cat.h"
#include "cli/cli_util.h"
#include "cli/commands.h"
#include "sweep/study_facts.h"
#include "sweep/study_info.h"
#include "sweep/study_merge.h"

namespace biofed {
namespace {

constexpr char kUsage[] =
    "usage: biofed study merge [--allow-mixed-versions] OUT.db STUDY.db...\n"
    "       biofed study info [--missing] STUDY.db";

int RunMerge(const std::vector<std::string>& args) {
  MergeOptions options;
  FlagSet flags("study merge",
                "Merges the studies of a sharded sweep (`biofed sweep --shard K/N`) into OUT.db (created\n"
                "when missing), whose report is the whole sweep's (`biofed report OUT.db`). Refuses\n"
                "studies made under other settings (naming the keys that differ) or by other code\n"
                "versions. A cell OUT.db already holds is kept, so merging a study twice adds nothing.\n"
                "usage: biofed study merge [--allow-mixed-versions] OUT.db STUDY.db...");
  flags.AddBool("allow-mixed-versions", &options.allow_other_code_versions,
                "merge studies made by different code versions (their numbers need not agree)");
  if (auto exit = ParseOrExit(flags, args)) return *exit;
  const std::vector<std::string>& paths = flags.positional();
  if (paths.size() < 2) return Fail("study merge", absl::InvalidArgumentError(absl::StrCat("expected OUT.db and at least one study\n", kUsage)));
  const std::vector<std::string> inputs(paths.begin() + 1, paths.end());
  auto merged = MergeStudies(paths[0], inputs, options);
  if (!merged.ok()) return Fail("study merge", merged.status());
  for (const auto& [path, rows] : merged->per_input) {
    std::printf("%s: %lld cells added (%lld already there), %lld trainings added (%lld already there)\n", path.c_str(),
                static_cast<long long>(rows.cells.added), static_cast<long long>(rows.cells.already_here),
                static_cast<long long>(rows.trainings.added), static_cast<long long>(rows.trainings.already_here));
    if (rows.cells.differing + rows.trainings.differing > 0) {
      std::printf("  warning: %lld cells and %lld trainings were already there with other numbers (kept as they "
                  "were): the same cell computed twice did not give the same result\n",
                  static_cast<long long>(rows.cells.differing), static_cast<long long>(rows.trainings.differing));
    }
  }
  std::printf("%s: %lld cells, %lld trainings\n", paths[0].c_str(), static_cast<long long>(merged->cells),
              static_cast<long long>(merged->trainings));
  return 0;
}

int RunInfo(const std::vector<std::string>& args) {
  bool list_missing = false;
  FlagSet flags("study info",
                "What a sweep study holds against its plan (the config of its last invocation): cells\n"
                "done and missing per grid, trainings, code versions, invocations and shards.\n"
                "usage: biofed study info [--missing] STUDY.db");
  flags.AddBool("missing", &list_missing, "list the key of every missing cell (of the study's shard, if one)");
  if (auto exit = ParseOrExit(flags, args)) return *exit;
  if (flags.positional().size() != 1) {
    return Fail("study info", absl::InvalidArgumentError(absl::StrCat("expected one study\n", kUsage)));
  }
  auto facts = ReadStudyFacts(flags.positional()[0]);
  if (!facts.ok()) return Fail("study info", facts.status());
  auto progress = ProgressOf(*facts);
  if (!progress.ok()) return Fail("study info", progress.status());
  std::printf("%s", StudyInfoText(*facts, *progress, list_missing).c_str());
  return 0;
}

}  // namespace

int RunStudyCommand(const std::vector<std::string>& args) {
  if (args.empty() || args[0] == "--help" || args[0] == "-h") {
    std::printf("biofed study: the studies of sweeps\n  merge  join the studies of a sharded sweep into one\n"
                "  info   what a study holds: cells done and missing per grid, versions, shards\n%s\n", kUsage);
    return args.empty() ? 2 : 0;
  }
  const std::vector<std::string> rest(args.begin() + 1, args.end());
  if (args[0] == "merge") return RunMerge(rest);
  if (args[0] == "info") return RunInfo(rest);
  return Fail("study", absl::InvalidArgumentError(absl::StrCat("unknown subcommand '", args[0], "'\n", kUsage)));
}

}  // namespace biofed
