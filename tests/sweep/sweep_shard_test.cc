// Sharded sweeps: the plan's partition (every cell in exactly one shard, a
// training with all its cells, balanced within the greedy bound), and the
// studies of the shards merged equal to the study of one process, also
// when a shard was stopped halfway and run again; merge's refusals; what
// `biofed study info` counts.
#include <gtest/gtest.h>

#include <sqlite3.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <map>
#include <numeric>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/sqlite_records.h"
#include "common/sqlite_statement.h"
#include "sweep/cell_cost.h"
#include "sweep/study_facts.h"
#include "sweep/study_info.h"
#include "sweep/study_merge.h"
#include "sweep/sweep_runner.h"
#include "sweep/sweep_shard.h"
#include "sweep/sweep_store.h"
#include "tests/testing/small_sweep.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace biofed {
namespace {

using ::testing::HasSubstr;
using testing::IsOk;
using testing::SmallSweep;
using testing::StatusIs;
using testing::TempDir;

TEST(SweepShardTest, ParsesKOfNCountedFromOne) {
  auto shard = ParseSweepShard("2/3");
  ASSERT_THAT(shard, IsOk());
  EXPECT_EQ(shard->index, 2);
  EXPECT_EQ(shard->count, 3);
  EXPECT_EQ(shard->Name(), "2/3");
  EXPECT_TRUE(ParseSweepShard("1/1")->whole());
  for (const char* bad : {"0/3", "4/3", "1/0", "-1/2", "3", "a/b", "1/2/3", ""}) {
    EXPECT_THAT(ParseSweepShard(bad), StatusIs(absl::StatusCode::kInvalidArgument, "")) << bad;
  }
}

// For the presets and several N: the shards together hold every cell of the
// plan exactly once, every training job's cells lie in one shard, the same
// call gives the same partition, and the largest shard's expected work is
// within the greedy bound (total / N + the largest unit).
TEST(SweepShardTest, ShardsPartitionThePlanAndKeepTrainingsWhole) {
  for (const char* preset : {"smoke", "quick", "paper"}) {
    const SweepConfig c = *SweepPreset(preset);
    const std::vector<AttackCell> cells = ExpandCells(c);
    std::map<std::string, double> unit_seconds;  // a training's unit, or a lone cell
    for (const AttackCell& cell : cells) {
      const std::string unit = cell.trained() ? cell.Training().Key() : cell.Key();
      if (cell.trained() && !unit_seconds.count(unit)) unit_seconds[unit] = ExpectedTrainingSeconds(c, cell.Training());
      unit_seconds[unit] += ExpectedCellSeconds(cell);
    }
    double total = 0, largest = 0;
    for (const auto& [unit, seconds] : unit_seconds) {
      total += seconds;
      largest = std::max(largest, seconds);
    }
    for (int64_t n : {1, 2, 3, 7}) {
      std::map<std::string, int> shards_of_cell;
      std::map<std::string, std::set<int64_t>> shards_of_training;
      for (int64_t k = 1; k <= n; ++k) {
        const std::vector<AttackCell> mine = CellsOfShard(c, cells, {k, n});
        std::vector<std::string> keys, again;
        for (const AttackCell& cell : mine) keys.push_back(cell.Key());
        for (const AttackCell& cell : CellsOfShard(c, cells, {k, n})) again.push_back(cell.Key());
        EXPECT_EQ(keys, again) << preset << " " << k << "/" << n;
        for (const AttackCell& cell : mine) {
          ++shards_of_cell[cell.Key()];
          if (cell.trained()) shards_of_training[cell.Training().Key()].insert(k);
        }
      }
      ASSERT_EQ(shards_of_cell.size(), cells.size()) << preset << " N=" << n;
      for (const auto& [key, count] : shards_of_cell) EXPECT_EQ(count, 1) << key;
      for (const auto& [job, shards] : shards_of_training) EXPECT_EQ(shards.size(), 1u) << job;
      const std::vector<double> loads = ExpectedShardSeconds(c, cells, n);
      EXPECT_NEAR(std::accumulate(loads.begin(), loads.end(), 0.0), total, 1e-9 * total);
      EXPECT_LE(*std::max_element(loads.begin(), loads.end()), total / static_cast<double>(n) + largest + 1e-9)
          << preset << " N=" << n;
    }
  }
}

// Every stored field of a row but its timing and code version, as text
// (doubles to all 17 digits): equal texts mean equal results.
template <typename Row>
std::string ResultText(Row row) {
  std::string text;
  VisitFields(row, [&](const char* name, const auto& field, const auto&...) {
    using T = std::decay_t<decltype(field)>;
    const std::string n = name;
    if (n == "seconds" || n == "code_version") return;
    if constexpr (std::is_same_v<T, Blob>) {
      absl::StrAppend(&text, n, "=", field.bytes.size(), ":", std::hash<std::string>{}(field.bytes), ";");
    } else if constexpr (std::is_same_v<T, double>) {
      absl::StrAppend(&text, n, "=", absl::StrFormat("%.17g", field), ";");
    } else {
      absl::StrAppend(&text, n, "=", field, ";");
    }
  });
  return text;
}

template <typename Row>
std::map<std::string, std::string> RowsOf(const std::string& path, const std::string& table) {
  std::map<std::string, std::string> rows;
  auto db = OpenSqliteReadOnly(path);
  EXPECT_THAT(db, IsOk());
  if (!db.ok()) return rows;
  {
    SqliteStatement select(*db, absl::StrCat("SELECT ", SqlColumnList<Row>(), " FROM ", table));
    while (select.NextRow()) {
      Row row;
      EXPECT_THAT(ReadFields(select, 0, &row), IsOk());
      rows[row.key] = ResultText(row);
    }
    EXPECT_THAT(select.status(), IsOk());
  }
  sqlite3_close(*db);
  return rows;
}

// Runs `shard` of SmallSweep into its own study; with `stop_after_first`,
// stops once the first cell is stored and runs the shard again (a job
// killed and resubmitted).
std::string RunShard(const TempDir& dir, const std::string& name, const SweepShard& shard, bool stop_after_first) {
  const SweepConfig c = SmallSweep();
  const std::string path = dir.File(absl::StrCat(name, "-", shard.index, "-of-", shard.count, ".db"));
  auto store = SweepStore::Open(path, SweepSharedSettingsJson(c));
  EXPECT_THAT(store, IsOk());
  EXPECT_THAT((*store)->AddInvocation(SweepConfigJson(c), shard.Name()), IsOk());
  std::atomic<bool> stop{false};
  auto counts = RunSweep(c, **store, 2, stop, [&](const std::string& line) {
    if (stop_after_first && line.rfind("model=", 0) == 0) stop = true;
  }, shard);
  EXPECT_THAT(counts, IsOk());
  if (stop_after_first) {
    EXPECT_TRUE(counts->interrupted);
    EXPECT_LT(counts->cells_run, counts->cells);
    stop = false;
    EXPECT_THAT((*store)->AddInvocation(SweepConfigJson(c), shard.Name()), IsOk());
    auto resumed = RunSweep(c, **store, 2, stop, [](const std::string&) {}, shard);
    EXPECT_THAT(resumed, IsOk());
    EXPECT_EQ(resumed->cells_already_done, counts->cells_run);
    EXPECT_EQ(resumed->cells_already_done + resumed->cells_run, resumed->cells);
  }
  return path;
}

// About 15 s (seven small sweeps): label long.
TEST(StudyMergeLongTest, MergedShardsEqualOneProcessAlsoAfterAResubmittedShard) {
  TempDir dir;
  const std::string whole = RunShard(dir, "one-process", {1, 1}, false);
  const auto cells = RowsOf<CellRow>(whole, "sweep_cells");
  const auto trainings = RowsOf<TrainingRow>(whole, "sweep_trainings");
  ASSERT_EQ(cells.size(), 8u);
  ASSERT_EQ(trainings.size(), 4u);
  for (int64_t n : {1, 2, 3}) {
    std::vector<std::string> shards;
    for (int64_t k = 1; k <= n; ++k) {
      // Shard 1/1 is the whole plan: the one-process study itself.
      shards.push_back(n == 1 ? whole : RunShard(dir, "shard", {k, n}, /*stop_after_first=*/n == 2 && k == 1));
    }
    const std::string merged = dir.File(absl::StrCat("merged-", n, ".db"));
    auto result = MergeStudies(merged, shards, {});
    ASSERT_THAT(result, IsOk()) << "N=" << n;
    EXPECT_EQ(result->cells, 8);
    EXPECT_EQ(result->trainings, 4);
    EXPECT_EQ(RowsOf<CellRow>(merged, "sweep_cells"), cells) << "N=" << n;
    EXPECT_EQ(RowsOf<TrainingRow>(merged, "sweep_trainings"), trainings) << "N=" << n;
    // Idempotent: a second merge of the same shards adds nothing.
    auto again = MergeStudies(merged, shards, {});
    ASSERT_THAT(again, IsOk());
    for (const auto& [path, rows] : again->per_input) {
      EXPECT_EQ(rows.cells.added + rows.trainings.added + rows.invocations_added, 0) << path;
      EXPECT_EQ(rows.cells.differing + rows.trainings.differing, 0) << path;
    }
    auto facts = ReadStudyFacts(merged);
    ASSERT_THAT(facts, IsOk());
    EXPECT_EQ(facts->invocations.size(), static_cast<size_t>(n == 2 ? n + 1 : n));
  }
}

absl::Status AddCellRow(const std::string& path, const std::string& settings, const std::string& key) {
  auto store = SweepStore::Open(path, settings);
  if (!store.ok()) return store.status();
  CellRow row;
  row.key = key;
  return (*store)->AddCell(row);
}

TEST(StudyMergeTest, RefusesOtherSettingsNamingTheKeysAndOtherCodeVersionsUnlessAllowed) {
  TempDir dir;
  SweepConfig a = SmallSweep(), b = SmallSweep();
  b.mechanism_parameters.tau = 0.5;
  b.train_rounds = 7;
  ASSERT_THAT(AddCellRow(dir.File("a.db"), SweepSharedSettingsJson(a), "cell-a"), IsOk());
  ASSERT_THAT(AddCellRow(dir.File("b.db"), SweepSharedSettingsJson(b), "cell-b"), IsOk());
  auto refused = MergeStudies(dir.File("out.db"), {dir.File("a.db"), dir.File("b.db")}, {});
  EXPECT_THAT(refused, StatusIs(absl::StatusCode::kFailedPrecondition, "train_rounds: 3 vs 7"));
  EXPECT_THAT(refused.status().message(), HasSubstr("tau: 0.18 vs 0.5"));
  EXPECT_FALSE(std::filesystem::exists(dir.File("out.db")));

  ASSERT_THAT(AddCellRow(dir.File("c.db"), SweepSharedSettingsJson(a), "cell-c"), IsOk());
  auto c_db = OpenSqliteDatabase(dir.File("c.db"));
  ASSERT_THAT(c_db, IsOk());
  ASSERT_THAT(SqliteExec(*c_db, "UPDATE sweep_cells SET code_version = 'other-version'"), IsOk());
  sqlite3_close(*c_db);
  EXPECT_THAT(MergeStudies(dir.File("out.db"), {dir.File("a.db"), dir.File("c.db")}, {}),
              StatusIs(absl::StatusCode::kFailedPrecondition, "other-version (1 rows)"));
  auto allowed = MergeStudies(dir.File("out.db"), {dir.File("a.db"), dir.File("c.db")}, {true});
  ASSERT_THAT(allowed, IsOk());
  EXPECT_EQ(allowed->cells, 2);

  EXPECT_THAT(MergeStudies(dir.File("out.db"), {dir.File("out.db")}, {}),
              StatusIs(absl::StatusCode::kInvalidArgument, "the output as well as an input"));
  EXPECT_THAT(MergeStudies(dir.File("out2.db"), {dir.File("missing.db")}, {}), StatusIs(absl::StatusCode::kNotFound, ""));
  EXPECT_THAT(MergeStudies(dir.File("out2.db"), {}, {}), StatusIs(absl::StatusCode::kInvalidArgument, ""));
}

TEST(StudyInfoTest, CountsDoneAndMissingPerGridAndForTheShard) {
  TempDir dir;
  const SweepConfig c = SmallSweep();
  const std::vector<AttackCell> cells = ExpandCells(c);
  const std::vector<AttackCell> second = CellsOfShard(c, cells, {2, 3});
  ASSERT_FALSE(second.empty());
  const std::string path = dir.File("study.db");
  {
    auto store = SweepStore::Open(path, SweepSharedSettingsJson(c));
    ASSERT_THAT(store, IsOk());
    ASSERT_THAT((*store)->AddInvocation(SweepConfigJson(c), "2/3"), IsOk());
    CellRow row;
    row.key = second.front().Key();
    ASSERT_THAT((*store)->AddCell(row), IsOk());
  }
  auto facts = ReadStudyFacts(path);
  ASSERT_THAT(facts, IsOk());
  // Reading leaves the study as it was: no -wal or -shm file behind.
  EXPECT_FALSE(std::filesystem::exists(path + "-wal"));
  EXPECT_FALSE(std::filesystem::exists(path + "-shm"));
  auto progress = ProgressOf(*facts);
  ASSERT_THAT(progress, IsOk());
  ASSERT_EQ(progress->grids.size(), 1u);
  EXPECT_EQ(progress->all.cells, 8);
  EXPECT_EQ(progress->all.done, 1);
  EXPECT_EQ(progress->all.missing.size(), 7u);
  EXPECT_EQ(progress->trainings, 4);
  ASSERT_TRUE(progress->shard.has_value());
  EXPECT_EQ(progress->shard->Name(), "2/3");
  EXPECT_EQ(progress->of_shard.cells, static_cast<int64_t>(second.size()));
  EXPECT_EQ(progress->of_shard.done, 1);
  const std::string text = StudyInfoText(*facts, *progress, true);
  EXPECT_THAT(text, HasSubstr("all grids: 8 cells, 1 done, 7 missing"));
  EXPECT_THAT(text, HasSubstr(absl::StrCat("shard 2/3: ", second.size(), " cells, 1 done")));
}

}  // namespace
}  // namespace biofed
