#include "sweep/sweep_store.h"

#include <sqlite3.h>

#include <functional>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/code_version.h"
#include "common/sqlite_records.h"
#include "common/sqlite_statement.h"
#include "common/status_macros.h"

namespace biofed {
namespace {

constexpr char kSettingsTable[] = R"sql(
CREATE TABLE IF NOT EXISTS sweep_settings (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  shared_settings TEXT NOT NULL
);
)sql";

std::string Schema() {
  return absl::StrCat(kSettingsTable, "CREATE TABLE IF NOT EXISTS sweep_invocations (",
                      "id INTEGER PRIMARY KEY AUTOINCREMENT, ", SqlColumnDefinitions<InvocationRow>(), ");\n",
                      "CREATE TABLE IF NOT EXISTS sweep_trainings (",
                      SqlColumnDefinitions<TrainingRow>(), ", PRIMARY KEY (key));\n",
                      "CREATE TABLE IF NOT EXISTS sweep_cells (", SqlColumnDefinitions<CellRow>(),
                      ", PRIMARY KEY (key));\n");
}

absl::StatusOr<int64_t> CountOf(sqlite3* db, const std::string& sql) {
  SqliteStatement count(db, sql);
  if (count.NextRow()) return count.Int(0);
  if (auto s = count.status(); !s.ok()) return s;
  return absl::InternalError(absl::StrCat("no count from ", sql));
}

// Runs `work` in one transaction: all of it lands, or none.
absl::Status InTransaction(sqlite3* db, const std::function<absl::Status()>& work) {
  BIOFED_RETURN_IF_ERROR(SqliteExec(db, "BEGIN IMMEDIATE"));
  absl::Status s = work();
  if (s.ok()) s = SqliteExec(db, "COMMIT");
  if (!s.ok()) SqliteExec(db, "ROLLBACK").IgnoreError();
  return s;
}

std::string NowUtc() { return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", absl::Now(), absl::UTCTimeZone()); }

}  // namespace

absl::StatusOr<std::unique_ptr<SweepStore>> SweepStore::Open(const std::string& path, const std::string& shared) {
  auto db = OpenSqliteDatabase(path);
  if (!db.ok()) return db.status();
  std::unique_ptr<SweepStore> store(new SweepStore(*db));
  absl::Status schema = SqliteExec(*db, Schema());
  if (schema.ok()) schema = AddMissingColumns<CellRow>(*db, "sweep_cells");
  if (schema.ok()) schema = AddMissingColumns<TrainingRow>(*db, "sweep_trainings");
  if (schema.ok()) schema = AddMissingColumns<InvocationRow>(*db, "sweep_invocations");
  if (!schema.ok()) return absl::InternalError(absl::StrCat(path, " is not a biofed sweep study: ", schema.message()));
  SqliteStatement read(*db, "SELECT shared_settings FROM sweep_settings WHERE id = 1");
  if (read.NextRow()) {
    const std::string recorded = read.Text(0);
    if (recorded != shared) {
      return absl::FailedPreconditionError(absl::StrCat(
          path, " was made under other shared settings, so its cells are not comparable with this config's.\n"
                "  study:  ", recorded, "\n  config: ", shared, "\nUse another --out, or the study's settings."));
    }
    return store;
  }
  if (auto s = read.status(); !s.ok()) return s;
  if (auto s = SqliteStatement(*db, "INSERT INTO sweep_settings (id, shared_settings) VALUES (1, ?)").Bind(shared).Step();
      !s.ok()) {
    return s;
  }
  return store;
}

SweepStore::~SweepStore() { sqlite3_close(db_); }

absl::Status SweepStore::AddInvocation(const std::string& config_json, const std::string& shard) {
  const InvocationRow row{NowUtc(), CodeVersion(), config_json, shard};
  std::lock_guard<std::mutex> lock(mutex_);
  SqliteStatement insert(db_, SqlInsertOrReplace<InvocationRow>("sweep_invocations"));
  return BindFields(insert, row).Step();
}

absl::StatusOr<std::set<std::string>> SweepStore::Keys(const char* sql) {
  std::lock_guard<std::mutex> lock(mutex_);
  SqliteStatement s(db_, sql);
  std::set<std::string> keys;
  while (s.NextRow()) keys.insert(s.Text(0));
  if (auto st = s.status(); !st.ok()) return st;
  return keys;
}

absl::StatusOr<std::set<std::string>> SweepStore::FinishedTrainings() { return Keys("SELECT key FROM sweep_trainings"); }

absl::StatusOr<std::set<std::string>> SweepStore::FinishedCells() { return Keys("SELECT key FROM sweep_cells"); }

absl::Status SweepStore::AddTraining(TrainingRow row) {
  row.code_version = CodeVersion();
  std::lock_guard<std::mutex> lock(mutex_);
  SqliteStatement insert(db_, SqlInsertOrReplace<TrainingRow>("sweep_trainings").c_str());
  return BindFields(insert, row).Step();
}

absl::StatusOr<std::string> SweepStore::TrainedModel(const std::string& key) {
  std::lock_guard<std::mutex> lock(mutex_);
  SqliteStatement s(db_, "SELECT model_state FROM sweep_trainings WHERE key = ?");
  s.Bind(key);
  if (s.NextRow()) return s.Blob(0);
  if (auto st = s.status(); !st.ok()) return st;
  return absl::NotFoundError(absl::StrCat("no finished training ", key));
}

absl::Status SweepStore::AddCell(CellRow row) {
  row.code_version = CodeVersion();
  std::lock_guard<std::mutex> lock(mutex_);
  SqliteStatement insert(db_, SqlInsertOrReplace<CellRow>("sweep_cells").c_str());
  return BindFields(insert, row).Step();
}

template <typename Row>
absl::StatusOr<CopiedRows> SweepStore::CopyKeyedRows(const std::string& table) {
  BIOFED_ASSIGN_OR_RETURN(const std::string select, SqlColumnsOrNull<Row>(db_, "other." + table, "o"));
  const std::string both = absl::StrCat(" FROM other.", table, " o JOIN main.", table, " m ON m.key = o.key");
  std::vector<std::string> unequal;
  for (const std::string& name : FieldNames<Row>()) {
    if (name != "key" && name != "seconds" && name != "code_version") {
      unequal.push_back(absl::StrCat("m.", name, " IS NOT o.", name));
    }
  }
  CopiedRows rows;
  BIOFED_ASSIGN_OR_RETURN(rows.already_here, CountOf(db_, absl::StrCat("SELECT count(*)", both)));
  BIOFED_ASSIGN_OR_RETURN(rows.differing, CountOf(db_, absl::StrCat("SELECT count(*)", both, " WHERE ",
                                                                     absl::StrJoin(unequal, " OR "))));
  BIOFED_RETURN_IF_ERROR(SqliteExec(db_, absl::StrCat("INSERT OR IGNORE INTO main.", table, " (",
                                                      SqlColumnList<Row>(), ") SELECT ", select, " FROM other.", table,
                                                      " o")));
  rows.added = sqlite3_changes(db_);
  return rows;
}

absl::StatusOr<int64_t> SweepStore::CopyNewInvocations() {
  BIOFED_ASSIGN_OR_RETURN(const std::string select, SqlColumnsOrNull<InvocationRow>(db_, "other.sweep_invocations", "o"));
  std::vector<std::string> same;
  for (const std::string& name : FieldNames<InvocationRow>()) same.push_back(absl::StrCat("m.", name, " IS o.", name));
  BIOFED_RETURN_IF_ERROR(SqliteExec(
      db_, absl::StrCat("INSERT INTO main.sweep_invocations (", SqlColumnList<InvocationRow>(), ") SELECT ", select,
                        " FROM other.sweep_invocations o WHERE NOT EXISTS (SELECT 1 FROM main.sweep_invocations m "
                        "WHERE ", absl::StrJoin(same, " AND "), ") ORDER BY o.id")));
  return static_cast<int64_t>(sqlite3_changes(db_));
}

absl::StatusOr<MergedStudy> SweepStore::CopyRowsFrom(const std::string& path) {
  std::lock_guard<std::mutex> lock(mutex_);
  BIOFED_RETURN_IF_ERROR(SqliteStatement(db_, "ATTACH DATABASE ? AS other").Bind(path).Step());
  MergedStudy merged;
  absl::Status copied = InTransaction(db_, [&]() -> absl::Status {
    BIOFED_ASSIGN_OR_RETURN(merged.cells, CopyKeyedRows<CellRow>("sweep_cells"));
    BIOFED_ASSIGN_OR_RETURN(merged.trainings, CopyKeyedRows<TrainingRow>("sweep_trainings"));
    BIOFED_ASSIGN_OR_RETURN(merged.invocations_added, CopyNewInvocations());
    return absl::OkStatus();
  });
  SqliteExec(db_, "DETACH DATABASE other").IgnoreError();
  if (!copied.ok()) {
    return absl::Status(copied.code(), absl::StrCat("copying the rows of ", path, ": ", copied.message()));
  }
  return merged;
}

}  // namespace biofed
