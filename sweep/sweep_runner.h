// Runs a sweep into its study: first the training federations the
// "trained" cells need, then the attack cells, longest expected first (so
// the sweep ends on short cells), each phase spread over `jobs` worker
// threads. Whatever the study already holds is skipped, so an interrupted
// sweep resumes where it stopped and an extended grid computes only its new
// cells. Every cell runs on one LibTorch thread (the runner
// sets it), which makes each result independent of `jobs` and of the order
// cells run in: a resumed sweep equals an uninterrupted one.
#ifndef BIOFED_SWEEP_SWEEP_RUNNER_H_
#define BIOFED_SWEEP_SWEEP_RUNNER_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "sweep/cell_cost.h"
#include "sweep/sweep_cells.h"
#include "sweep/sweep_config.h"
#include "sweep/sweep_shard.h"
#include "sweep/sweep_store.h"

namespace biofed {

// The cells of one model run by a sweep and their summed wall time (each
// on one worker).
struct ModelCellTimes {
  int64_t cells = 0;
  double seconds = 0;
};

struct SweepCounts {
  int64_t trainings = 0, trainings_already_done = 0, trainings_run = 0;
  int64_t cells = 0, cells_already_done = 0, cells_run = 0;
  bool interrupted = false;  // `stop` was raised; rerun to finish
  int64_t workers = 1;
  double cell_phase_seconds = 0;                 // wall time of the attack cells' phase
  std::map<std::string, ModelCellTimes> by_model;  // cells run, by model
};

// Cells per hour of a model with every worker on it: workers * 3600 / its
// mean seconds per cell (0 without cells).
double CellsPerHour(const ModelCellTimes& times, int64_t workers);

// `progress` receives one line per finished training or cell (it may be
// called from worker threads, one call at a time). A cell that fails (e.g.
// analytic inversion of a convolutional model) stops the sweep with an
// error naming it; the cells finished before it stay in the study.
// `shard` runs only its part of the plan (sweep/sweep_shard.h); the counts
// are then those of the shard.
absl::StatusOr<SweepCounts> RunSweep(const SweepConfig& config, SweepStore& store, int64_t jobs,
                                     const std::atomic<bool>& stop,
                                     const std::function<void(const std::string&)>& progress,
                                     const SweepShard& shard = SweepShard{});

}  // namespace biofed

#endif  // BIOFED_SWEEP_SWEEP_RUNNER_H_
