#include "simulate/results_store.h"

#include <sqlite3.h>

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

std::string CodeVersion() {
#ifdef BIOFED_CODE_VERSION
  return BIOFED_CODE_VERSION;
#else
  return "unknown";
#endif
}

absl::StatusOr<std::unique_ptr<ResultsStore>> ResultsStore::Open(const std::string& path) {
  sqlite3* db = nullptr;
  if (sqlite3_open(path.c_str(), &db) != SQLITE_OK) {
    const std::string why = db ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close(db);
    return absl::InternalError(absl::StrCat("cannot open results database ", path, ": ", why));
  }
  sqlite3_busy_timeout(db, 10000);
  std::unique_ptr<ResultsStore> store(new ResultsStore(db));
  if (auto s = store->Exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"); !s.ok()) return s;
  if (auto s = store->Exec(kSchema); !s.ok()) {
    return absl::InternalError(absl::StrCat(path, " is not a biofed results database: ", s.message()));
  }
  return store;
}

ResultsStore::~ResultsStore() { sqlite3_close(db_); }

absl::Status ResultsStore::Exec(const std::string& sql) {
  char* error = nullptr;
  if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &error) != SQLITE_OK) {
    const std::string why = error ? error : "unknown error";
    sqlite3_free(error);
    return absl::InternalError(absl::StrCat("sqlite: ", why));
  }
  return absl::OkStatus();
}

namespace {

// A prepared statement bound by position; Step() runs it once.
class Statement {
 public:
  Statement(sqlite3* db, const char* sql) : db_(db) { ok_ = sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr) == SQLITE_OK; }
  ~Statement() { sqlite3_finalize(stmt_); }
  Statement& Bind(int64_t v) { sqlite3_bind_int64(stmt_, ++index_, v); return *this; }
  Statement& Bind(double v) { sqlite3_bind_double(stmt_, ++index_, v); return *this; }
  Statement& Bind(const std::string& v) {
    sqlite3_bind_text(stmt_, ++index_, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Statement& BindBlob(const std::string& v) {
    sqlite3_bind_blob(stmt_, ++index_, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  absl::Status Step() {
    if (!ok_ || sqlite3_step(stmt_) != SQLITE_DONE) {
      return absl::InternalError(absl::StrCat("sqlite: ", sqlite3_errmsg(db_)));
    }
    return absl::OkStatus();
  }

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
  bool ok_ = false;
  int index_ = 0;
};

}  // namespace

absl::StatusOr<int64_t> ResultsStore::AddRun(const std::string& name, const std::string& biomod,
                                             const std::string& config_json) {
  std::lock_guard<std::mutex> lock(mutex_);
  Statement s(db_, "INSERT INTO runs (name, biomod, config_json, code_version, started_utc) VALUES (?, ?, ?, ?, ?)");
  const std::string now = absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", absl::Now(), absl::UTCTimeZone());
  if (auto st = s.Bind(name).Bind(biomod).Bind(config_json).Bind(CodeVersion()).Bind(now).Step(); !st.ok()) return st;
  return static_cast<int64_t>(sqlite3_last_insert_rowid(db_));
}

absl::Status ResultsStore::MarkFinished(int64_t run_id) {
  std::lock_guard<std::mutex> lock(mutex_);
  return Statement(db_, "UPDATE runs SET finished = 1 WHERE id = ?").Bind(run_id).Step();
}

absl::Status ResultsStore::AddRound(int64_t run_id, const RoundRow& r) {
  std::lock_guard<std::mutex> lock(mutex_);
  return Statement(db_,
                   "INSERT OR REPLACE INTO rounds (run_id, round, test_accuracy, test_loss, train_loss, examples, "
                   "participants, dropped, rejected, seconds) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
      .Bind(run_id).Bind(r.round).Bind(r.test_accuracy).Bind(r.test_loss).Bind(r.train_loss).Bind(r.examples)
      .Bind(r.participants).Bind(r.dropped).Bind(r.rejected).Bind(r.seconds)
      .Step();
}

absl::Status ResultsStore::AddAttack(int64_t run_id, const AttackRow& a) {
  std::lock_guard<std::mutex> lock(mutex_);
  return Statement(db_,
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
