// What the sweep's units of work are expected to cost, in seconds on one
// LibTorch thread: a rough model calibrated on this project's benchmarks
// (docs/benchmarks.md), used only to order and to balance work, never to
// compute a result. Plain functions; thread-safe.
#ifndef BIOFED_SWEEP_CELL_COST_H_
#define BIOFED_SWEEP_CELL_COST_H_

#include <vector>

#include "sweep/sweep_cells.h"
#include "sweep/sweep_config.h"

namespace biofed {

// An attack cell: its attack's iterations (times restarts; DLG's L-BFGS
// evaluates up to 20 objectives per step; the analytic attack is free) times
// its model's cost per Inverting Gradients iteration at its batch size.
double ExpectedCellSeconds(const AttackCell& cell);

// A training federation: train_rounds x train_clients local steps at
// train_batch, one step taken as 0.8 of an attack iteration at that batch
// size (calibrated on the smoke preset's MLP federation: 10.5 s measured).
double ExpectedTrainingSeconds(const SweepConfig& config, const TrainingJob& job);

// `cells` longest expected first (equal costs in their given order), so the
// last cells of a sweep are short ones and no worker idles through a long
// single-cell tail.
std::vector<AttackCell> LongestFirst(std::vector<AttackCell> cells);

}  // namespace biofed

#endif  // BIOFED_SWEEP_CELL_COST_H_
