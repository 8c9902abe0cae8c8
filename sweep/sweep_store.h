// A sweep's study in one SQLite file: the settings it was made under, every
// invocation (config and code version), one row per finished training job
// and one per finished attack cell (experiment/sweep_rows.h; a study made by
// older code gains the columns it lacks). Each row is its own
// transaction in WAL mode, so a kill leaves complete rows only, and a row's
// presence is what marks its cell done. Thread-safe (one connection behind
// a mutex).
#ifndef BIOFED_SWEEP_SWEEP_STORE_H_
#define BIOFED_SWEEP_SWEEP_STORE_H_

#include <cstdint>
#include <memory>
#include <mutex>
#include <set>
#include <string>

#include "absl/status/statusor.h"
#include "experiment/sweep_rows.h"

struct sqlite3;

namespace biofed {

class SweepStore {
 public:
  // Opens or creates the study at `path`. A new study records
  // `shared_settings`; an existing one made under other settings is
  // FAILED_PRECONDITION (its cells would not be comparable).
  static absl::StatusOr<std::unique_ptr<SweepStore>> Open(const std::string& path, const std::string& shared_settings);
  ~SweepStore();

  absl::Status AddInvocation(const std::string& config_json);
  absl::StatusOr<std::set<std::string>> FinishedTrainings();
  absl::StatusOr<std::set<std::string>> FinishedCells();
  // Both stamp the row with this binary's CodeVersion().
  absl::Status AddTraining(TrainingRow row);
  // The stored model state of a finished training job; NOT_FOUND if absent.
  absl::StatusOr<std::string> TrainedModel(const std::string& training_key);
  absl::Status AddCell(CellRow row);

 private:
  explicit SweepStore(sqlite3* db) : db_(db) {}
  absl::StatusOr<std::set<std::string>> Keys(const char* sql);
  std::mutex mutex_;
  sqlite3* db_;
};

}  // namespace biofed

#endif  // BIOFED_SWEEP_SWEEP_STORE_H_
