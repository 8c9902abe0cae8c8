#include "simulate/results_store.h"

#include <sqlite3.h>

#include "common/sqlite_statement.h"

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace biofed {
namespace {

constexpr char kSchema[] = R"sql(
CREATE TABLE IF NOT EXISTS runs (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  name TEXT NOT NULL,
  biomod TEXT NOT NULL,
  config_json TEXT NOT NULL,
  code_version TEXT NOT NULL,
  started_utc TEXT NOT NULL,
  finished INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS rounds (
  run_id INTEGER NOT NULL REFERENCES runs(id),
  round INTEGER NOT NULL,
  test_accuracy REAL, test_loss REAL, train_loss REAL,
  examples INTEGER, participants INTEGER, dropped INTEGER, rejected INTEGER, seconds REAL,
  PRIMARY KEY (run_id, round)
);
CREATE TABLE IF NOT EXISTS attacks (
  run_id INTEGER NOT NULL REFERENCES runs(id),
  round INTEGER NOT NULL,
  client_id TEXT NOT NULL,
  attack TEXT NOT NULL,
  iterations INTEGER,
  labels TEXT, fl_factors_known INTEGER, batch_size_known INTEGER, local_hyperparameters_known INTEGER,
  batchnorm_mode TEXT, batch_size INTEGER, local_steps INTEGER,
  mse REAL, psnr REAL, ssim REAL, relative_error_percent REAL, best_psnr REAL, label_accuracy REAL,
  objective_name TEXT, objective REAL, seconds REAL,
  png BLOB,
  PRIMARY KEY (run_id, round, client_id, attack)
);
)sql";

}  // namespace

absl::StatusOr<std::unique_ptr<ResultsStore>> ResultsStore::Open(const std::string& path) {
  auto db = OpenSqliteDatabase(path);
  if (!db.ok()) return db.status();
  std::unique_ptr<ResultsStore> store(new ResultsStore(*db));
  if (auto s = SqliteExec(*db, kSchema); !s.ok()) {
    return absl::InternalError(absl::StrCat(path, " is not a biofed results database: ", s.message()));
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

absl::Status ResultsStore::AddRound(int64_t run_id, const RoundRow& r) {
  std::lock_guard<std::mutex> lock(mutex_);
  return SqliteStatement(db_,
                   "INSERT OR REPLACE INTO rounds (run_id, round, test_accuracy, test_loss, train_loss, examples, "
                   "participants, dropped, rejected, seconds) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
      .Bind(run_id).Bind(r.round).Bind(r.test_accuracy).Bind(r.test_loss).Bind(r.train_loss).Bind(r.examples)
      .Bind(r.participants).Bind(r.dropped).Bind(r.rejected).Bind(r.seconds)
      .Step();
}

absl::Status ResultsStore::AddAttack(int64_t run_id, const AttackRow& a) {
  std::lock_guard<std::mutex> lock(mutex_);
  return SqliteStatement(db_,
                   "INSERT OR REPLACE INTO attacks (run_id, round, client_id, attack, iterations, labels, "
                   "fl_factors_known, batch_size_known, local_hyperparameters_known, batchnorm_mode, batch_size, "
                   "local_steps, mse, psnr, ssim, relative_error_percent, best_psnr, label_accuracy, objective_name, "
                   "objective, seconds, png) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
      .Bind(run_id).Bind(a.round).Bind(a.client_id).Bind(a.attack).Bind(a.iterations).Bind(a.labels)
      .Bind(static_cast<int64_t>(a.fl_factors_known)).Bind(static_cast<int64_t>(a.batch_size_known))
      .Bind(static_cast<int64_t>(a.local_hyperparameters_known)).Bind(a.batchnorm_mode).Bind(a.batch_size)
      .Bind(a.local_steps).Bind(a.mse).Bind(a.psnr).Bind(a.ssim).Bind(a.relative_error_percent).Bind(a.best_psnr)
      .Bind(a.label_accuracy).Bind(a.objective_name).Bind(a.objective).Bind(a.seconds).BindBlob(a.png)
      .Step();
}

}  // namespace biofed
