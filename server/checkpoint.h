// The server's checkpoint: the global model after the last completed round
// and the history of every completed round. Written atomically after each
// round, so a restarted server resumes at the next round with no completed
// round lost.
//
// File format (little-endian): the 8 bytes "BIOFEDCK", a uint32 version
// (1), a uint64 header length, a UTF-8 JSON header (run id, model spec,
// completed rounds, history, and per tensor: name, dtype, shape, role,
// offset, byte count, CRC-32C), then the tensor bytes. Thread-safe.
#ifndef BIOFED_SERVER_CHECKPOINT_H_
#define BIOFED_SERVER_CHECKPOINT_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "wire/host_tensor.h"

namespace biofed {

struct RoundSummary {
  int64_t round = 0;
  std::vector<std::string> participants;  // clients whose updates were aggregated
  std::vector<std::string> dropped;       // sampled but not aggregated (late, gone)
  int64_t examples = 0;
  int64_t rejected_updates = 0;           // invalid submissions during the round
  double train_loss = 0.0;                // example-weighted mean reported by clients
  double test_accuracy = 0.0;
  double test_loss = 0.0;
  double seconds = 0.0;
};

struct Checkpoint {
  std::string run_id;
  std::string model_spec_json;
  int64_t completed_rounds = 0;
  TensorTable model;
  std::vector<RoundSummary> history;
};

// The rounds as a JSON array (the checkpoint's history, and summary.json's).
std::string RoundHistoryJson(const std::vector<RoundSummary>& history);

std::string EncodeCheckpoint(const Checkpoint& checkpoint);
// DATA_LOSS naming `source` and the fault for anything malformed.
absl::StatusOr<Checkpoint> DecodeCheckpoint(const std::string& bytes, const std::string& source);

absl::Status WriteCheckpoint(const std::string& path, const Checkpoint& checkpoint);
absl::StatusOr<Checkpoint> ReadCheckpoint(const std::string& path);

}  // namespace biofed

#endif  // BIOFED_SERVER_CHECKPOINT_H_
