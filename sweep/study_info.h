// `biofed study info`: what a sweep study holds against its plan (the
// config of its last invocation): cells done and missing per grid and in
// all, trainings done, and, for a study that only one shard ever ran
// into, the same for that shard. Pure functions; thread-safe.
#ifndef BIOFED_SWEEP_STUDY_INFO_H_
#define BIOFED_SWEEP_STUDY_INFO_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "sweep/study_facts.h"
#include "sweep/sweep_shard.h"

namespace biofed {

struct PlanProgress {
  int64_t cells = 0, done = 0;
  std::vector<std::string> missing;  // keys, in plan order
};

struct StudyProgress {
  std::vector<PlanProgress> grids;  // one per grid of the plan
  PlanProgress all;                 // every grid (a cell in two grids counts once)
  int64_t trainings = 0, trainings_done = 0;
  std::optional<SweepShard> shard;  // the one shard every invocation ran, if any
  PlanProgress of_shard;
  int64_t cells_outside_plan = 0;   // rows of cells the plan does not have
};

// INVALID_ARGUMENT when the study records no invocation or its last
// config does not parse.
absl::StatusOr<StudyProgress> ProgressOf(const StudyFacts& facts);

// The human-readable summary; `list_missing` adds every missing cell's key.
std::string StudyInfoText(const StudyFacts& facts, const StudyProgress& progress, bool list_missing);

}  // namespace biofed

#endif  // BIOFED_SWEEP_STUDY_INFO_H_
