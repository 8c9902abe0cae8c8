#include "sweep/sweep_store.h"

#include <sqlite3.h>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/sqlite_statement.h"
#include "common/code_version.h"

namespace biofed {
namespace {

constexpr char kSchema[] = R"sql(
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
CREATE TABLE IF NOT EXISTS sweep_trainings (
  key TEXT PRIMARY KEY,
  model TEXT NOT NULL, mechanisms TEXT NOT NULL, defense TEXT NOT NULL, seed INTEGER NOT NULL,
  rounds INTEGER, test_accuracy REAL, test_loss REAL, seconds REAL,
  accuracy_curve_json TEXT, code_version TEXT, model_state BLOB
);
CREATE TABLE IF NOT EXISTS sweep_cells (
  key TEXT PRIMARY KEY,
  model TEXT NOT NULL, mechanisms TEXT NOT NULL, victim TEXT NOT NULL, attack TEXT NOT NULL,
  batch_size INTEGER NOT NULL, seed INTEGER NOT NULL, defense TEXT NOT NULL, iterations INTEGER NOT NULL,
  labels TEXT, fl_factors_known INTEGER, batch_size_known INTEGER,
  mse REAL, psnr REAL, ssim REAL, relative_error_percent REAL, best_psnr REAL, label_accuracy REAL,
  objective_name TEXT, objective REAL, update_norm REAL, seconds REAL, code_version TEXT,
  png BLOB
);
)sql";

std::string NowUtc() { return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", absl::Now(), absl::UTCTimeZone()); }

}  // namespace

absl::StatusOr<std::unique_ptr<SweepStore>> SweepStore::Open(const std::string& path, const std::string& shared) {
  auto db = OpenSqliteDatabase(path);
  if (!db.ok()) return db.status();
  std::unique_ptr<SweepStore> store(new SweepStore(*db));
  if (auto s = SqliteExec(*db, kSchema); !s.ok()) {
    return absl::InternalError(absl::StrCat(path, " is not a biofed sweep study: ", s.message()));
  }
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

absl::Status SweepStore::AddTraining(const TrainingRow& r) {
  std::lock_guard<std::mutex> lock(mutex_);
  return SqliteStatement(db_,
                         "INSERT OR REPLACE INTO sweep_trainings (key, model, mechanisms, defense, seed, rounds, "
                         "test_accuracy, test_loss, seconds, accuracy_curve_json, code_version, model_state) "
                         "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
      .Bind(r.job.Key()).Bind(r.job.model).Bind(r.job.mechanisms).Bind(r.job.defense).Bind(r.job.seed)
      .Bind(r.rounds).Bind(r.test_accuracy).Bind(r.test_loss).Bind(r.seconds).Bind(r.accuracy_curve_json)
      .Bind(CodeVersion()).BindBlob(r.model_state)
      .Step();
}

absl::StatusOr<std::string> SweepStore::TrainedModel(const std::string& key) {
  std::lock_guard<std::mutex> lock(mutex_);
  SqliteStatement s(db_, "SELECT model_state FROM sweep_trainings WHERE key = ?");
  s.Bind(key);
  if (s.NextRow()) return s.Blob(0);
  if (auto st = s.status(); !st.ok()) return st;
  return absl::NotFoundError(absl::StrCat("no finished training ", key));
}

absl::Status SweepStore::AddCell(const CellRow& r) {
  std::lock_guard<std::mutex> lock(mutex_);
  const AttackCell& c = r.cell;
  const AttackRow& a = r.scored;
  return SqliteStatement(db_,
                         "INSERT OR REPLACE INTO sweep_cells (key, model, mechanisms, victim, attack, batch_size, seed, "
                         "defense, iterations, labels, fl_factors_known, batch_size_known, mse, psnr, ssim, "
                         "relative_error_percent, best_psnr, label_accuracy, objective_name, objective, update_norm, "
                         "seconds, code_version, png) "
                         "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
      .Bind(c.Key()).Bind(c.model).Bind(c.mechanisms).Bind(c.victim).Bind(c.attack).Bind(c.batch_size).Bind(c.seed)
      .Bind(c.defense).Bind(c.iterations).Bind(a.labels).Bind(static_cast<int64_t>(a.fl_factors_known))
      .Bind(static_cast<int64_t>(a.batch_size_known)).Bind(a.mse).Bind(a.psnr).Bind(a.ssim)
      .Bind(a.relative_error_percent).Bind(a.best_psnr).Bind(a.label_accuracy).Bind(a.objective_name)
      .Bind(a.objective).Bind(r.update_norm).Bind(a.seconds).Bind(CodeVersion()).BindBlob(a.png)
      .Step();
}

}  // namespace biofed
