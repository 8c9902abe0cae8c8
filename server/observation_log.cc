#include "server/observation_log.h"

#include <chrono>

#include "absl/strings/str_cat.h"
#include "common/untrusted_text.h"

namespace biofed {

void ObservationLog::Record(std::shared_ptr<const Observation> observation,
                            std::optional<v1::AuditManifest> manifest) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (manifest && keep_manifests_) {
      manifest->set_client_id(observation->header.client_id());
      manifest->set_round(observation->header.round());
      manifests_[{observation->header.round(), observation->header.client_id()}] = std::move(*manifest);
    }
    if (limit_ == 0) return;
    observations_.push_back(std::move(observation));
    if (observations_.size() > limit_) {
      observations_.erase(observations_.begin());
      ++dropped_;
    }
  }
  appended_.notify_all();
}

void ObservationLog::End() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    ended_ = true;
  }
  appended_.notify_all();
}

ObservationWait ObservationLog::Wait(size_t* index, absl::Duration timeout,
                                     std::shared_ptr<const Observation>* out) const {
  std::unique_lock<std::mutex> lock(mutex_);
  const auto until = std::chrono::steady_clock::now() + absl::ToChronoMilliseconds(timeout);
  while (true) {
    if (*index < dropped_) *index = dropped_;
    const size_t position = *index - dropped_;
    if (position < observations_.size()) {
      *out = observations_[position];
      return ObservationWait::kReady;
    }
    if (ended_) return ObservationWait::kEnded;
    if (appended_.wait_until(lock, until) == std::cv_status::timeout) return ObservationWait::kTimedOut;
  }
}

absl::StatusOr<v1::AuditManifest> ObservationLog::Manifest(int64_t round, const std::string& client) const {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = manifests_.find({round, client});
  if (it == manifests_.end()) {
    return absl::NotFoundError(
        absl::StrCat("no audit manifest for round ", round, ", client '", EscapedForLog(client), "'"));
  }
  return it->second;
}

}  // namespace biofed
