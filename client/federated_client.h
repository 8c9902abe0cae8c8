// A federated client: joins with its credential, pulls tasks, fetches the
// global model, trains locally with its own biomod state, and submits the
// update in chunks (with the audit manifest when the server collects them).
// Calls that fail with UNAVAILABLE, or CANCELLED by a server shutting down,
// are retried with exponential backoff, so a client rides out a server
// restart. One client per thread.
#ifndef BIOFED_CLIENT_FEDERATED_CLIENT_H_
#define BIOFED_CLIENT_FEDERATED_CLIENT_H_

#include <atomic>
#include <functional>
#include <memory>
#include <string>

#include <grpcpp/generic/generic_stub.h>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "biofed/v1/federation.grpc.pb.h"
#include "client/federation_channel.h"
#include "client/local_training.h"
#include "wire/tensor_stream.h"

namespace biofed {

struct FederatedClientOptions {
  std::string address;
  ChannelSecurity security;
  std::string token;
  BiomodOptions biomod;  // FL and WR; WS is part of the server's model
  DpSgdOptions dp;       // DP-SGD in the training loop; off unless enabled
  std::string biomod_name;  // recorded in the audit manifest
  uint64_t seed = 0;     // the client's private seed
  std::string device = "cpu";
  absl::Duration max_unavailable = absl::Seconds(60);  // give up after the server is gone this long
  absl::Duration max_backoff = absl::Seconds(2);
  const std::atomic<bool>* stop = nullptr;             // set: leave after the current call (a round in
                                                       // progress is abandoned before its update is sent)
  std::function<void(int64_t round, const LocalResult&)> on_submitted;
  // Applied to each update after training, before it is sent (a defense);
  // optional.
  std::function<absl::Status(int64_t round, TensorTable& update)> defend;
};

class FederatedClient {
 public:
  FederatedClient(FederatedClientOptions options, LocalData data);
  // Runs until the federation finishes (OK), `stop` is set (CANCELLED), or
  // an error that retrying cannot fix.
  absl::Status Run();

 private:
  // Joins the federation (with retries) and makes the trainer for its model.
  absl::StatusOr<v1::JoinReply> Join(v1::Federation::Stub& stub);
  // Pulls tasks and runs rounds until the federation finishes, the client
  // stops or an error retrying cannot fix.
  absl::Status ServeTasks(v1::Federation::Stub& stub, grpc::GenericStub& updates);
  absl::Status RunRound(v1::Federation::Stub& stub, grpc::GenericStub& updates, const v1::TrainTask& task);
  template <typename Call>
  absl::Status Retry(const char* what, Call call);
  bool Stopping() const { return options_.stop != nullptr && options_.stop->load(); }

  FederatedClientOptions options_;
  LocalData data_;
  std::string client_id_;
  std::string dataset_;
  bool send_manifest_ = false;
  std::unique_ptr<LocalTrainer> trainer_;
  int64_t cached_version_ = -1;
  TensorTable cached_model_;
};

// One model version from the server, checked against the limits.
absl::StatusOr<TensorTable> FetchModelTable(v1::Federation::Stub& stub, const std::string& token, int64_t version,
                                            const WireLimits& limits = {});

// Sends header (tensor declarations filled in here), chunks, the optional
// manifest and the trailer (SendUpdate: no copy of the tensors' bytes);
// returns the server's verdict.
absl::Status SubmitUpdateTable(grpc::GenericStub& stub, const std::string& token, v1::UpdateHeader header,
                               std::shared_ptr<const TensorTable> update, const v1::AuditManifest* manifest,
                               size_t chunk_bytes = kDefaultChunkBytes);

}  // namespace biofed

#endif  // BIOFED_CLIENT_FEDERATED_CLIENT_H_
