// The sweep's units of work. An attack cell is one point of a grid: a
// victim client (model, mechanisms, untrained or trained, batch size,
// seed) sends one defended update and one attack reconstructs it. A
// training job is the federation that trains a "trained" victim and
// measures accuracy: one per (model, mechanisms, defense, seed). Each has a
// key that names everything its result depends on, so a study finds what
// is already done. Plain data; thread-safe.
#ifndef BIOFED_SWEEP_SWEEP_CELLS_H_
#define BIOFED_SWEEP_SWEEP_CELLS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "experiment/sweep_rows.h"
#include "sweep/sweep_config.h"

namespace biofed {

struct TrainingJob {
  std::string model, mechanisms, defense;  // canonical names ("fl+wr", "noise:1:0.01")
  int64_t seed = 0;
  // Trained until the test accuracy plateaus (SweepConfig), not train_rounds.
  bool converged = false;
  // "model=...|seed=S", then "|state=converged" for a converged job (a mid
  // job's key is the one older studies hold).
  std::string Key() const;
};

struct AttackCell {
  std::string model, mechanisms, victim, attack, defense;
  int64_t batch_size = 1, seed = 0, iterations = 0;
  std::string Key() const;
  // The victim typed (a cell of a valid config parses).
  SweepVictim Victim() const { return ParseSweepVictim(victim).value_or(SweepVictim{}); }
  bool trained() const { return Victim().trained; }
  TrainingJob Training() const { return {model, mechanisms, defense, seed, Victim().converged}; }
};

// The cell's row with its identity filled in (key, model, mechanisms, victim,
// defense, seed); what the attack scored is the runner's to add.
CellRow CellRowOf(const AttackCell& cell);

// Every cell of every grid, in grid order, each key once. Expects a valid
// config (ValidateSweepConfig).
std::vector<AttackCell> ExpandCells(const SweepConfig& config);

// The training jobs the trained cells need, each once, in first-use order.
std::vector<TrainingJob> TrainingJobsFor(const std::vector<AttackCell>& cells);

}  // namespace biofed

#endif  // BIOFED_SWEEP_SWEEP_CELLS_H_
