#include "simulate/results_store.h"

#include <sqlite3.h>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/sqlite_records.h"
#include "common/sqlite_statement.h"

namespace biofed {
namespace {

constexpr char kRunsTable[] = R"sql(
CREATE TABLE IF NOT EXISTS runs (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  name TEXT NOT NULL,
  biomod TEXT NOT NULL,
  config_json TEXT NOT NULL,
  code_version TEXT NOT NULL,
  started_utc TEXT NOT NULL,
  finished INTEGER NOT NULL DEFAULT 0
);
)sql";

// The rounds and attacks tables: a run id, then the record's columns.
std::string Schema() {
  return absl::StrCat(kRunsTable, "CREATE TABLE IF NOT EXISTS rounds (run_id INTEGER NOT NULL REFERENCES runs(id), ",
                      SqlColumnDefinitions<RoundRow>(), ", PRIMARY KEY (run_id, round));\n",
                      "CREATE TABLE IF NOT EXISTS attacks (run_id INTEGER NOT NULL REFERENCES runs(id), ",
                      SqlColumnDefinitions<ObservedAttack>(), ", PRIMARY KEY (run_id, round, client_id, attack));\n");
}

}  // namespace

absl::StatusOr<std::unique_ptr<ResultsStore>> ResultsStore::Open(const std::string& path) {
  auto db = OpenSqliteDatabase(path);
  if (!db.ok()) return db.status();
  std::unique_ptr<ResultsStore> store(new ResultsStore(*db));
  absl::Status schema = SqliteExec(*db, Schema());
  if (schema.ok()) schema = AddMissingColumns<ObservedAttack>(*db, "attacks");
  if (!schema.ok()) {
    return absl::InternalError(absl::StrCat(path, " is not a biofed results database: ", schema.message()));
  }
  return store;
}

ResultsStore::~ResultsStore() { sqlite3_close(db_); }

absl::StatusOr<int64_t> ResultsStore::AddRun(const std::string& name, const std::string& biomod,
                                             const std::string& config_json) {
  std::lock_guard<std::mutex> lock(mutex_);
  SqliteStatement s(db_, "INSERT INTO runs (name, biomod, config_json, code_version, started_utc) VALUES (?, ?, ?, ?, ?)");
  const std::string now = absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", absl::Now(), absl::UTCTimeZone());
  if (auto st = s.Bind(name).Bind(biomod).Bind(config_json).Bind(CodeVersion()).Bind(now).Step(); !st.ok()) return st;
  return static_cast<int64_t>(sqlite3_last_insert_rowid(db_));
}

absl::Status ResultsStore::MarkFinished(int64_t run_id) {
  std::lock_guard<std::mutex> lock(mutex_);
  return SqliteStatement(db_, "UPDATE runs SET finished = 1 WHERE id = ?").Bind(run_id).Step();
}

absl::Status ResultsStore::AddRound(int64_t run_id, const RoundRow& row) {
  std::lock_guard<std::mutex> lock(mutex_);
  SqliteStatement insert(db_, SqlInsertOrReplace<RoundRow>("rounds", {"run_id"}).c_str());
  return BindFields(insert.Bind(run_id), row).Step();
}

absl::Status ResultsStore::AddAttack(int64_t run_id, const ObservedAttack& row) {
  std::lock_guard<std::mutex> lock(mutex_);
  SqliteStatement insert(db_, SqlInsertOrReplace<ObservedAttack>("attacks", {"run_id"}).c_str());
  return BindFields(insert.Bind(run_id), row).Step();
}

}  // namespace biofed
