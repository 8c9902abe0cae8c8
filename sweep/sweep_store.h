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

// What copying another study's rows added: a row whose key this study
// already holds is kept as it is here; `differing` counts those whose
// results (every column but seconds and code_version) are not equal.
struct CopiedRows {
  int64_t added = 0, already_here = 0, differing = 0;
};

struct MergedStudy {
  CopiedRows cells, trainings;
  int64_t invocations_added = 0;
};

class SweepStore {
 public:
  // Opens or creates the study at `path`. A new study records
  // `shared_settings`; an existing one made under other settings is
  // FAILED_PRECONDITION (its cells would not be comparable).
  static absl::StatusOr<std::unique_ptr<SweepStore>> Open(const std::string& path, const std::string& shared_settings);
  ~SweepStore();

  // `shard` is SweepShard::Name() ("1/1" for the whole plan).
  absl::Status AddInvocation(const std::string& config_json, const std::string& shard);
  absl::StatusOr<std::set<std::string>> FinishedTrainings();
  absl::StatusOr<std::set<std::string>> FinishedCells();
  // Both stamp the row with this binary's CodeVersion().
  absl::Status AddTraining(TrainingRow row);
  // The stored model state of a finished training job; NOT_FOUND if absent.
  absl::StatusOr<std::string> TrainedModel(const std::string& training_key);
  absl::Status AddCell(CellRow row);

  // Copies into this study, in one transaction, every cell, training and
  // invocation of the study at `path` that this one lacks, so copying the
  // same study twice adds nothing. Columns the other study lacks (older
  // code) arrive as NULL. The caller checks that the two studies are
  // comparable (sweep/study_merge.h).
  absl::StatusOr<MergedStudy> CopyRowsFrom(const std::string& path);

 private:
  explicit SweepStore(sqlite3* db) : db_(db) {}
  absl::StatusOr<std::set<std::string>> Keys(const char* sql);
  template <typename Row>
  absl::StatusOr<CopiedRows> CopyKeyedRows(const std::string& table);
  absl::StatusOr<int64_t> CopyNewInvocations();
  std::mutex mutex_;
  sqlite3* db_;
};

}  // namespace biofed

#endif  // BIOFED_SWEEP_SWEEP_STORE_H_
