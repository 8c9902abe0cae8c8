// What the server keeps for auditors: the accepted updates in order of
// acceptance, each with the model it was trained from (oldest dropped beyond
// a limit), and the audit manifests the clients sent, by (round, client).
// The federation core records; the service's observer stream and manifest
// RPC read. Thread-safe.
#ifndef BIOFED_SERVER_OBSERVATION_LOG_H_
#define BIOFED_SERVER_OBSERVATION_LOG_H_

#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "biofed/v1/federation.pb.h"
#include "wire/host_tensor.h"

namespace biofed {

// One accepted update as an auditor receives it.
struct Observation {
  int64_t model_version = 0;
  std::shared_ptr<const TensorTable> model;
  v1::UpdateHeader header;  // as the client sent it
  std::shared_ptr<const TensorTable> update;
};

enum class ObservationWait { kReady, kTimedOut, kEnded };

class ObservationLog {
 public:
  // limit 0 keeps no observations (a federation without auditors holds no
  // old updates); keep_manifests false stores no manifests.
  ObservationLog(size_t limit, bool keep_manifests) : limit_(limit), keep_manifests_(keep_manifests) {}

  // Appends an accepted update and stores its manifest (stamped with the
  // header's round and client).
  void Record(std::shared_ptr<const Observation> observation, std::optional<v1::AuditManifest> manifest);
  // No observation will follow: waiters past the end return kEnded.
  void End();

  // Waits up to `timeout` for observation number `index` (0-based, in order
  // of acceptance). kEnded: the log ended and no observation `index` will
  // come. Observations dropped by the limit are skipped: `*index` is
  // advanced to the oldest kept.
  ObservationWait Wait(size_t* index, absl::Duration timeout, std::shared_ptr<const Observation>* out) const;

  // NOT_FOUND when no manifest was stored for (round, client).
  absl::StatusOr<v1::AuditManifest> Manifest(int64_t round, const std::string& client) const;

 private:
  const size_t limit_;
  const bool keep_manifests_;
  mutable std::mutex mutex_;
  mutable std::condition_variable appended_;
  std::vector<std::shared_ptr<const Observation>> observations_;
  size_t dropped_ = 0;
  bool ended_ = false;
  std::map<std::pair<int64_t, std::string>, v1::AuditManifest> manifests_;
};

}  // namespace biofed

#endif  // BIOFED_SERVER_OBSERVATION_LOG_H_
