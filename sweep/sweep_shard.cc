#include "sweep/sweep_shard.h"

#include <algorithm>
#include <map>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "sweep/cell_cost.h"

namespace biofed {
namespace {

// Cells that go to one shard together, by their positions in the plan.
struct WorkUnit {
  std::vector<size_t> cells;
  double seconds = 0;
};

std::vector<WorkUnit> WorkUnitsOf(const SweepConfig& config, const std::vector<AttackCell>& cells) {
  std::vector<WorkUnit> units;
  std::map<std::string, size_t> unit_of_training;
  for (size_t i = 0; i < cells.size(); ++i) {
    const AttackCell& cell = cells[i];
    size_t u = units.size();
    if (cell.trained()) {
      const TrainingJob job = cell.Training();
      auto [it, added] = unit_of_training.emplace(job.Key(), units.size());
      u = it->second;
      if (added) units.push_back({{}, ExpectedTrainingSeconds(config, job)});
    } else {
      units.push_back({});
    }
    units[u].cells.push_back(i);
    units[u].seconds += ExpectedCellSeconds(cell);
  }
  return units;
}

// The shard (0-based) of each unit, and each shard's expected seconds.
struct Deal {
  std::vector<int64_t> shard_of_unit;
  std::vector<double> seconds;
};

Deal DealOut(const std::vector<WorkUnit>& units, int64_t count) {
  std::vector<size_t> order(units.size());
  for (size_t u = 0; u < units.size(); ++u) order[u] = u;
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return units[a].seconds > units[b].seconds; });
  Deal deal{std::vector<int64_t>(units.size(), 0), std::vector<double>(static_cast<size_t>(count), 0.0)};
  for (size_t u : order) {
    const auto least = std::min_element(deal.seconds.begin(), deal.seconds.end());
    deal.shard_of_unit[u] = least - deal.seconds.begin();
    *least += units[u].seconds;
  }
  return deal;
}

}  // namespace

std::string SweepShard::Name() const { return absl::StrCat(index, "/", count); }

absl::StatusOr<SweepShard> ParseSweepShard(const std::string& text) {
  const std::vector<std::string> parts = absl::StrSplit(text, '/');
  SweepShard shard;
  if (parts.size() != 2 || !absl::SimpleAtoi(parts[0], &shard.index) || !absl::SimpleAtoi(parts[1], &shard.count)) {
    return absl::InvalidArgumentError(absl::StrCat("shard '", text, "' is not K/N (e.g. 2/3: the second of three)"));
  }
  if (shard.count < 1 || shard.index < 1 || shard.index > shard.count) {
    return absl::InvalidArgumentError(
        absl::StrCat("shard '", text, "': K/N needs 1 <= K <= N (shards are counted from 1)"));
  }
  return shard;
}

std::vector<AttackCell> CellsOfShard(const SweepConfig& config, const std::vector<AttackCell>& cells,
                                     const SweepShard& shard) {
  if (shard.whole()) return cells;
  const std::vector<WorkUnit> units = WorkUnitsOf(config, cells);
  const Deal deal = DealOut(units, shard.count);
  std::vector<bool> mine(cells.size(), false);
  for (size_t u = 0; u < units.size(); ++u) {
    if (deal.shard_of_unit[u] != shard.index - 1) continue;
    for (size_t i : units[u].cells) mine[i] = true;
  }
  std::vector<AttackCell> out;
  for (size_t i = 0; i < cells.size(); ++i) {
    if (mine[i]) out.push_back(cells[i]);
  }
  return out;
}

std::vector<double> ExpectedShardSeconds(const SweepConfig& config, const std::vector<AttackCell>& cells,
                                         int64_t count) {
  return DealOut(WorkUnitsOf(config, cells), count).seconds;
}

}  // namespace biofed
