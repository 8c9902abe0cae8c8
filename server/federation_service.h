// The gRPC face of the federation: authenticates every call (bearer token
// in the "authorization" metadata), checks the caller's role, streams
// models and observations in chunks, and validates every incoming update
// before the core sees it. Each rejection is a precise status to the
// caller plus a log line; the core and the global model are untouched.
// SubmitUpdate uses gRPC's callback API with raw messages (UpdateReactor);
// the other methods are synchronous handlers.
// Thread-safe (gRPC calls handlers from its own threads).
#ifndef BIOFED_SERVER_FEDERATION_SERVICE_H_
#define BIOFED_SERVER_FEDERATION_SERVICE_H_

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "biofed/v1/federation.grpc.pb.h"
#include "server/credentials.h"
#include "server/federation_core.h"
#include "server/update_reactor.h"
#include "wire/grpc_status.h"

namespace biofed {

class FederationService final : public v1::Federation::WithRawCallbackMethod_SubmitUpdate<v1::Federation::Service> {
 public:
  FederationService(FederationCore* core, CredentialStore credentials, size_t chunk_bytes = kDefaultChunkBytes);
  ~FederationService() override;

  grpc::Status Join(grpc::ServerContext* context, const v1::JoinRequest* request, v1::JoinReply* reply) override;
  grpc::Status PullTask(grpc::ServerContext* context, const v1::PullTaskRequest* request, v1::Task* task) override;
  grpc::Status FetchModel(grpc::ServerContext* context, const v1::FetchModelRequest* request,
                          grpc::ServerWriter<v1::ModelChunk>* writer) override;
  // Reads raw messages: a data chunk's payload is copied once, from gRPC's
  // receive buffers into the assembled tensor (the generated handler would
  // first copy it into a message). `reply` is a serialized SubmitReply.
  grpc::ServerReadReactor<grpc::ByteBuffer>* SubmitUpdate(grpc::CallbackServerContext* context,
                                                          grpc::ByteBuffer* reply) override;
  grpc::Status Heartbeat(grpc::ServerContext* context, const v1::HeartbeatRequest* request,
                         v1::HeartbeatReply* reply) override;
  grpc::Status Observe(grpc::ServerContext* context, const v1::ObserveRequest* request,
                       grpc::ServerWriter<v1::ObservationChunk>* writer) override;
  grpc::Status FetchAuditManifest(grpc::ServerContext* context, const v1::AuditManifestRequest* request,
                                  v1::AuditManifest* reply) override;

 private:
  // UNAUTHENTICATED without a known token; PERMISSION_DENIED without `role`.
  absl::StatusOr<const Principal*> Authorize(const grpc::ServerContextBase* context, Role role) const;

  // Ends the updates still arriving for rounds that have closed, every
  // 100 ms, until the service goes.
  void EndStaleUpdates();

  FederationCore* core_;
  const CredentialStore credentials_;
  const size_t chunk_bytes_;
  ArrivingUpdates arriving_;
  std::mutex stop_mutex_;
  std::condition_variable stop_changed_;
  bool stopping_ = false;
  std::thread stale_updates_;
};

}  // namespace biofed

#endif  // BIOFED_SERVER_FEDERATION_SERVICE_H_
