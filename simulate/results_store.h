// The results of a study in one SQLite file: runs (one per federation, with
// its full config and the code version), rounds (accuracy and participation)
// and attacks (every metric, the threat-model switches, the comparison PNG).
// Each row is written in its own transaction, so a kill leaves complete rows
// only. Thread-safe (one connection behind a mutex).
#ifndef BIOFED_SIMULATE_RESULTS_STORE_H_
#define BIOFED_SIMULATE_RESULTS_STORE_H_

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/code_version.h"
#include "experiment/round_row.h"
#include "experiment/scored_attack.h"

struct sqlite3;

namespace biofed {

class ResultsStore {
 public:
  // Opens or creates `path` (WAL journal); INTERNAL naming the file on error.
  static absl::StatusOr<std::unique_ptr<ResultsStore>> Open(const std::string& path);
  ~ResultsStore();

  absl::StatusOr<int64_t> AddRun(const std::string& name, const std::string& biomod, const std::string& config_json);
  absl::Status MarkFinished(int64_t run_id);
  absl::Status AddRound(int64_t run_id, const RoundRow& row);
  absl::Status AddAttack(int64_t run_id, const ObservedAttack& row);

 private:
  explicit ResultsStore(sqlite3* db) : db_(db) {}
  std::mutex mutex_;
  sqlite3* db_;
};

}  // namespace biofed

#endif  // BIOFED_SIMULATE_RESULTS_STORE_H_
