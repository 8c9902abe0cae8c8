#include "sweep/sweep_store.h"

#include <sqlite3.h>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/code_version.h"
#include "common/sqlite_records.h"
#include "common/sqlite_statement.h"

namespace biofed {
namespace {

constexpr char kSettingsTables[] = R"sql(
CREATE TABLE IF NOT EXISTS sweep_settings (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  shared_settings TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS sweep_invocations (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  started_utc TEXT NOT NULL,
  code_version TEXT NOT NULL,
  config_json TEXT NOT NULL
);
)sql";

std::string Schema() {
  return absl::StrCat(kSettingsTables, "CREATE TABLE IF NOT EXISTS sweep_trainings (",
                      SqlColumnDefinitions<TrainingRow>(), ", PRIMARY KEY (key));\n",
                      "CREATE TABLE IF NOT EXISTS sweep_cells (", SqlColumnDefinitions<CellRow>(),
                      ", PRIMARY KEY (key));\n");
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

absl::Status SweepStore::AddInvocation(const std::string& config_json) {
  std::lock_guard<std::mutex> lock(mutex_);
  return SqliteStatement(db_, "INSERT INTO sweep_invocations (started_utc, code_version, config_json) VALUES (?, ?, ?)")
      .Bind(NowUtc()).Bind(CodeVersion()).Bind(config_json).Step();
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

}  // namespace biofed
