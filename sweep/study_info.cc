#include "sweep/study_info.h"

#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/status_macros.h"
#include "sweep/sweep_cells.h"
#include "sweep/sweep_config.h"

namespace biofed {
namespace {

PlanProgress ProgressAgainst(const std::vector<AttackCell>& cells, const std::set<std::string>& done) {
  PlanProgress p;
  p.cells = static_cast<int64_t>(cells.size());
  for (const AttackCell& cell : cells) {
    if (done.count(cell.Key())) {
      ++p.done;
    } else {
      p.missing.push_back(cell.Key());
    }
  }
  return p;
}

// The shard every invocation ran, when they all ran the same part of a
// sharded plan.
std::optional<SweepShard> OnlyShard(const std::vector<InvocationRow>& invocations) {
  std::set<std::string> shards;
  for (const InvocationRow& i : invocations) shards.insert(i.shard);
  if (shards.size() != 1) return std::nullopt;
  auto shard = ParseSweepShard(*shards.begin());
  if (!shard.ok() || shard->whole()) return std::nullopt;
  return *shard;
}

std::string Line(const std::string& what, const PlanProgress& p) {
  return absl::StrCat("  ", what, ": ", p.cells, " cells, ", p.done, " done, ", p.cells - p.done, " missing\n");
}

}  // namespace

absl::StatusOr<StudyProgress> ProgressOf(const StudyFacts& facts) {
  if (facts.invocations.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(facts.path, " records no invocation, so no plan to compare with"));
  }
  BIOFED_ASSIGN_OR_RETURN(const SweepConfig config,
                          ParseSweepConfig(facts.invocations.back().config_json, facts.path + " (last invocation)"));
  StudyProgress progress;
  for (const SweepGrid& grid : config.grids) {
    SweepConfig one = config;
    one.grids = {grid};
    progress.grids.push_back(ProgressAgainst(ExpandCells(one), facts.cells));
  }
  const std::vector<AttackCell> cells = ExpandCells(config);
  progress.all = ProgressAgainst(cells, facts.cells);
  progress.cells_outside_plan = static_cast<int64_t>(facts.cells.size()) - progress.all.done;
  for (const TrainingJob& job : TrainingJobsFor(cells)) {
    ++progress.trainings;
    if (facts.trainings.count(job.Key())) ++progress.trainings_done;
  }
  progress.shard = OnlyShard(facts.invocations);
  if (progress.shard) progress.of_shard = ProgressAgainst(CellsOfShard(config, cells, *progress.shard), facts.cells);
  return progress;
}

std::string StudyInfoText(const StudyFacts& facts, const StudyProgress& progress, bool list_missing) {
  std::string text = absl::StrCat("study: ", facts.path, "\n");
  std::vector<std::string> versions, shards;
  for (const auto& [version, rows] : facts.rows_by_code_version) versions.push_back(absl::StrCat(version, " (", rows, " rows)"));
  std::set<std::string> seen;
  for (const InvocationRow& i : facts.invocations) {
    if (seen.insert(i.shard).second) shards.push_back(i.shard.empty() ? "whole plan" : i.shard);
  }
  absl::StrAppend(&text, "code versions: ", absl::StrJoin(versions, ", "), "\n");
  absl::StrAppend(&text, "invocations: ", facts.invocations.size(), " (", facts.invocations.front().started_utc, " to ",
                  facts.invocations.back().started_utc, "), shards: ", absl::StrJoin(shards, ", "), "\n");
  absl::StrAppend(&text, "plan (the last invocation's config): ", progress.grids.size(),
                  progress.grids.size() == 1 ? " grid\n" : " grids\n");
  for (size_t g = 0; g < progress.grids.size(); ++g) absl::StrAppend(&text, Line(absl::StrCat("grid ", g + 1), progress.grids[g]));
  absl::StrAppend(&text, Line("all grids", progress.all));
  absl::StrAppend(&text, "  trainings: ", progress.trainings, ", ", progress.trainings_done, " done, ",
                  progress.trainings - progress.trainings_done, " missing\n");
  if (progress.shard) absl::StrAppend(&text, Line(absl::StrCat("shard ", progress.shard->Name()), progress.of_shard));
  if (progress.cells_outside_plan > 0) {
    absl::StrAppend(&text, "  ", progress.cells_outside_plan, " stored cells are not in this plan (other configs)\n");
  }
  if (list_missing) {
    const PlanProgress& missing = progress.shard ? progress.of_shard : progress.all;
    for (const std::string& key : missing.missing) absl::StrAppend(&text, "missing ", key, "\n");
  }
  return text;
}

}  // namespace biofed
