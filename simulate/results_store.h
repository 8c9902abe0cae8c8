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

struct sqlite3;

namespace biofed {

struct RoundRow {
  int64_t round = 0;
  double test_accuracy = 0, test_loss = 0, train_loss = 0, seconds = 0;
  int64_t examples = 0, participants = 0, dropped = 0, rejected = 0;
};

struct AttackRow {
  int64_t round = 0;
  std::string client_id;
  std::string attack;
  int64_t iterations = 0;
  std::string labels;  // "known" or "inferred"
  bool fl_factors_known = false;
  bool batch_size_known = true;
  bool local_hyperparameters_known = true;
  std::string batchnorm_mode;  // "train" or "eval"
  int64_t batch_size = 0, local_steps = 0;
  double mse = 0, psnr = 0, ssim = 0, relative_error_percent = 0;
  double best_psnr = 0, label_accuracy = 0;
  std::string objective_name;
  double objective = 0, seconds = 0;
  std::string png;  // truth above reconstruction
};

class ResultsStore {
 public:
  // Opens or creates `path` (WAL journal); INTERNAL naming the file on error.
  static absl::StatusOr<std::unique_ptr<ResultsStore>> Open(const std::string& path);
  ~ResultsStore();

  absl::StatusOr<int64_t> AddRun(const std::string& name, const std::string& biomod, const std::string& config_json);
  absl::Status MarkFinished(int64_t run_id);
  absl::Status AddRound(int64_t run_id, const RoundRow& row);
  absl::Status AddAttack(int64_t run_id, const AttackRow& row);

 private:
  explicit ResultsStore(sqlite3* db) : db_(db) {}
  std::mutex mutex_;
  sqlite3* db_;
};

}  // namespace biofed

#endif  // BIOFED_SIMULATE_RESULTS_STORE_H_
