#include "common/record_fields.h"

#include <sqlite3.h>

#include <cmath>

#include <gtest/gtest.h>

#include "common/sqlite_records.h"
#include "common/sqlite_statement.h"
#include "experiment/round_row.h"
#include "experiment/scored_attack.h"
#include "experiment/sweep_rows.h"
#include "tests/testing/status_matchers.h"

namespace biofed {
namespace {

using ::biofed::testing::IsOk;

struct MemoryDatabase {
  MemoryDatabase() { EXPECT_EQ(sqlite3_open(":memory:", &db), SQLITE_OK); }
  ~MemoryDatabase() { sqlite3_close(db); }
  sqlite3* db = nullptr;
};

ObservedAttack Example() {
  ObservedAttack a;
  a.round = 30;
  a.client_id = "c0";
  a.scored.attack = "ig+ignore-largest:0.1";
  a.scored.iterations = 500;
  a.scored.labels_known = true;
  a.scored.batchnorm_train_mode = false;
  a.scored.batch_size = 4;
  a.scored.psnr = 21.25;
  a.scored.objective_name = "1 - cos";
  a.scored.objective = 1e-3;
  a.scored.gradient_error_percent = 0.25;
  a.scored.share = "gradient";
  a.scored.png.bytes = std::string("\x89PNG\0data", 9);
  return a;
}

// The studies written before the field lists existed had these columns
// (simulate/results_store.cc and sweep/sweep_store.cc at f4f9786): renaming
// one would orphan every older study's data. Columns added since (DP-SGD's
// budget, the fraction of the batch recovered, the paper's gradient error,
// what the client shared, a training's state and plateau) come after them.
TEST(RecordFieldsTest, ColumnNamesAreThoseOfEarlierStudies) {
  EXPECT_EQ(FieldNames<ObservedAttack>(),
            (std::vector<std::string>{"round", "client_id", "attack", "iterations", "labels", "fl_factors_known",
                                      "batch_size_known", "local_hyperparameters_known", "batchnorm_mode",
                                      "batch_size", "local_steps", "mse", "psnr", "ssim", "relative_error_percent",
                                      "best_psnr", "label_accuracy", "objective_name", "objective", "seconds",
                                      "png", "recovered_fraction", "gradient_error_percent", "share"}));
  EXPECT_EQ(FieldNames<RoundRow>(),
            (std::vector<std::string>{"round", "test_accuracy", "test_loss", "train_loss", "examples", "participants",
                                      "dropped", "rejected", "seconds"}));
  EXPECT_EQ(FieldNames<TrainingRow>(),
            (std::vector<std::string>{"key", "model", "mechanisms", "defense", "seed", "rounds", "test_accuracy",
                                      "test_loss", "seconds", "accuracy_curve_json", "code_version", "model_state",
                                      "dp_epsilon", "dp_delta", "state", "plateaued"}));
}

TEST(RecordFieldsTest, SqlRoundTripKeepsEveryFieldAndItsStorageType) {
  MemoryDatabase m;
  ASSERT_THAT(SqliteExec(m.db, "CREATE TABLE attacks (run_id INTEGER, " + SqlColumnDefinitions<ObservedAttack>() + ")"),
              IsOk());
  const ObservedAttack a = Example();
  SqliteStatement insert(m.db, SqlInsertOrReplace<ObservedAttack>("attacks", {"run_id"}));
  ASSERT_THAT(BindFields(insert.Bind(int64_t{7}), a).Step(), IsOk());
  SqliteStatement types(m.db, "SELECT typeof(labels), typeof(fl_factors_known), typeof(psnr), typeof(png), labels, "
                              "batchnorm_mode FROM attacks");
  ASSERT_TRUE(types.NextRow());
  EXPECT_EQ(types.Text(0), "text");
  EXPECT_EQ(types.Text(1), "integer");
  EXPECT_EQ(types.Text(2), "real");
  EXPECT_EQ(types.Text(3), "blob");
  EXPECT_EQ(types.Text(4), "known");
  EXPECT_EQ(types.Text(5), "eval");
  SqliteStatement read(m.db, "SELECT run_id, " + SqlColumnList<ObservedAttack>() + " FROM attacks");
  ASSERT_TRUE(read.NextRow());
  ObservedAttack back;
  ASSERT_THAT(ReadFields(read, 1, &back), IsOk());
  EXPECT_EQ(read.Int(0), 7);
  EXPECT_EQ(RecordToJson(back), RecordToJson(a));
  EXPECT_EQ(back.scored.png.bytes, a.scored.png.bytes);
  EXPECT_FALSE(RecordToJson(a).contains("png"));
}

// A table made by older code gains the columns it lacks; its old rows read
// the new columns as the record's defaults (0, "", a coded field's default,
// NaN for the gradient error, which such rows never measured).
TEST(RecordFieldsTest, MissingColumnsAreAddedAndReadAsDefaults) {
  MemoryDatabase m;
  ASSERT_THAT(SqliteExec(m.db, "CREATE TABLE attacks (round INTEGER, client_id TEXT, attack TEXT, psnr REAL);"
                               "INSERT INTO attacks VALUES (1, 'c1', 'ig', 12.5);"),
              IsOk());
  ASSERT_THAT(AddMissingColumns<ObservedAttack>(m.db, "attacks"), IsOk());
  ASSERT_THAT(AddMissingColumns<ObservedAttack>(m.db, "attacks"), IsOk());  // nothing left to add
  SqliteStatement read(m.db, "SELECT " + SqlColumnList<ObservedAttack>() + " FROM attacks");
  ASSERT_TRUE(read.NextRow());
  ObservedAttack back;
  ASSERT_THAT(ReadFields(read, 0, &back), IsOk());
  EXPECT_EQ(back.client_id, "c1");
  EXPECT_EQ(back.scored.psnr, 12.5);
  EXPECT_EQ(back.scored.iterations, 0);
  EXPECT_TRUE(back.scored.batchnorm_train_mode);
  EXPECT_TRUE(std::isnan(back.scored.gradient_error_percent));
  ASSERT_THAT(SqliteExec(m.db, "UPDATE attacks SET labels = 'sometimes'"), IsOk());
  SqliteStatement bad(m.db, "SELECT " + SqlColumnList<ObservedAttack>() + " FROM attacks");
  ASSERT_TRUE(bad.NextRow());
  EXPECT_THAT(ReadFields(bad, 0, &back), testing::StatusIs(absl::StatusCode::kInvalidArgument, "labels"));
}

}  // namespace
}  // namespace biofed
