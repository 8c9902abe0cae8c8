// The auditor's side of the federation: an authorised observer stream that
// turns every accepted update into the same UpdateRecord an offline capture
// holds (the global model the client started from, exactly what it sent,
// the metadata), and the scorer's look-up of the true batch through the
// audit manifest. The attack itself stays gRPC-free. One call per thread.
#ifndef BIOFED_ATTACK_OBSERVER_CLIENT_H_
#define BIOFED_ATTACK_OBSERVER_CLIENT_H_

#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "attack/update_record.h"
#include "biofed/v1/federation.grpc.pb.h"
#include "client/federation_channel.h"
#include "data/dataset.h"
#include "wire/tensor_stream.h"

namespace biofed {

struct ObserverOptions {
  std::string address;
  ChannelSecurity security;
  std::string token;   // a credential with the auditor role (and scorer, to score)
  Normalization norm;  // the dataset's public statistics, recorded with each record
  WireLimits limits;
};

// One connection to the server for an auditor and scorer: the channel is
// made once and shared by every call. Thread-safe (gRPC stubs are).
class ObserverSession {
 public:
  // INVALID_ARGUMENT for unreadable TLS files; makes no call yet.
  static absl::StatusOr<ObserverSession> Open(const ObserverOptions& options);

  // Joins (for the model spec), streams the observations of `request` and
  // calls `on_record` for each; returns OK when the federation ends, or when
  // `on_record` returns false.
  absl::Status Observe(const v1::ObserveRequest& request, const std::function<bool(UpdateRecord)>& on_record) const;

  // The same stream as it travelled, without LibTorch: for each accepted
  // update the round's global model and the update as host tensors (what a
  // replay of the aggregation needs). OK when the stream ends, or when
  // `on_observation` returns false.
  struct Tables {
    v1::ObservationHeader header;
    TensorTable model;
    TensorTable update;
  };
  absl::Status ObserveTables(const v1::ObserveRequest& request, const std::function<bool(Tables)>& on_observation) const;

  // The audit manifest of (round, client); needs the scorer role.
  absl::StatusOr<v1::AuditManifest> FetchAuditManifest(int64_t round, const std::string& client_id) const;

 private:
  ObserverSession(ObserverOptions options, std::shared_ptr<v1::Federation::Stub> stub)
      : options_(std::move(options)), stub_(std::move(stub)) {}
  ObserverOptions options_;
  std::shared_ptr<v1::Federation::Stub> stub_;
};

// The auditor's loop, shared by `biofed audit` and the gRPC transport of the
// federation driver: observes `request` until the federation ends and hands
// each update, with its true batch (its audit manifest's samples rebuilt from
// `data`), to `on_update`. While the server is unreachable it retries every
// second, for up to `max_unavailable` since it last heard from it (a server
// restart). Returns OK when the federation ends, on_update's first error, or
// the stream's.
absl::Status RunAuditor(const ObserverSession& session, const v1::ObserveRequest& request, const DatasetSplits& data,
                        absl::Duration max_unavailable, const std::function<absl::Status(CaptureFile)>& on_update);

// The true batch a manifest names, rebuilt from the dataset the scorer holds
// (normalised, in step order). INVALID_ARGUMENT for an index out of range or
// a different dataset.
absl::StatusOr<AuditRecord> AuditFromManifest(const v1::AuditManifest& manifest, const DatasetSplits& data);

}  // namespace biofed

#endif  // BIOFED_ATTACK_OBSERVER_CLIENT_H_
