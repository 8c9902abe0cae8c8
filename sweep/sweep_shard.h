// A shard of a sweep: the K-th of N deterministic parts of its plan, so N
// processes (a Slurm job array, a Kubernetes Indexed Job) each run one part
// into a study of its own and `biofed study merge` joins them. Plain data
// and pure functions; thread-safe.
#ifndef BIOFED_SWEEP_SWEEP_SHARD_H_
#define BIOFED_SWEEP_SWEEP_SHARD_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "sweep/sweep_cells.h"
#include "sweep/sweep_config.h"

namespace biofed {

struct SweepShard {
  int64_t index = 1;  // K, from 1
  int64_t count = 1;  // N
  bool whole() const { return count == 1; }
  std::string Name() const;  // "K/N"
};

// "K/N" with 1 <= K <= N; INVALID_ARGUMENT saying what is wrong otherwise.
absl::StatusOr<SweepShard> ParseSweepShard(const std::string& text);

// The cells of `shard`, in the order of `cells`. Each training job goes
// with every trained cell that needs it (so each training runs in exactly
// one shard); these groups and the untrained cells are dealt out largest
// expected cost first (sweep/cell_cost.h), each to the shard with the least
// expected work so far, ties to the lower index. The partition depends only
// on the config and `cells`: every shard of a plan computes the same one,
// the shards together hold every cell once, and a resubmitted shard gets
// the same cells again.
std::vector<AttackCell> CellsOfShard(const SweepConfig& config, const std::vector<AttackCell>& cells,
                                     const SweepShard& shard);

// The expected seconds of work of each of N shards (index 0 is shard 1).
std::vector<double> ExpectedShardSeconds(const SweepConfig& config, const std::vector<AttackCell>& cells,
                                         int64_t count);

}  // namespace biofed

#endif  // BIOFED_SWEEP_SWEEP_SHARD_H_
