// A sweep's study in one SQLite file: the settings it was made under, every
// invocation (config and code version), one row per finished training job
// (accuracy curve and the trained model) and one per finished attack cell
// (every metric and the truth/reconstruction image). Each row is its own
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
#include "simulate/results_store.h"
#include "sweep/sweep_cells.h"

struct sqlite3;

namespace biofed {

struct TrainingRow {
  TrainingJob job;
  int64_t rounds = 0;
  double test_accuracy = 0, test_loss = 0, seconds = 0;
  std::string accuracy_curve_json;  // [[round, accuracy], ...]
  std::string model_state;          // EncodeCheckpoint of the trained model
};

struct CellRow {
  AttackCell cell;
  // The scored attack, as the simulate study records it (threat model,
  // metrics, objective, time, image); its round and client are unused.
  AttackRow scored;
  double update_norm = 0;  // L2 norm of the parameter entries the attacker saw
};

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
  absl::Status AddTraining(const TrainingRow& row);
  // The stored model state of a finished training job; NOT_FOUND if absent.
  absl::StatusOr<std::string> TrainedModel(const std::string& training_key);
  absl::Status AddCell(const CellRow& row);

 private:
  explicit SweepStore(sqlite3* db) : db_(db) {}
  absl::StatusOr<std::set<std::string>> Keys(const char* sql);
  std::mutex mutex_;
  sqlite3* db_;
};

}  // namespace biofed

#endif  // BIOFED_SWEEP_SWEEP_STORE_H_
