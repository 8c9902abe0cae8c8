// The server's side of one SubmitUpdate call, on gRPC's callback API with
// raw messages: each message is decoded in place as it arrives (a data
// chunk's payload is read from gRPC's receive buffers, not copied into a
// message first), the header is checked with the core before any tensor
// byte is accepted, the tensors are assembled and validated chunk by chunk
// (UpdateReceiver), and the complete update goes to the core. A rejection
// ends the call at once with its precise status, is counted and logged;
// the core and the global model are untouched.
// A stream whose round closes while it is still arriving (a client that
// stalls after its header) is ended with FAILED_PRECONDITION and its
// assembly buffer freed (ArrivingUpdates), so it holds nothing past its
// round.
// Thread-safety: gRPC runs one reaction of a call at a time (one read is in
// flight at most); a reaction and the end of a stale stream are serialised
// by the stream's own mutex; the core is thread-safe.
#ifndef BIOFED_SERVER_UPDATE_REACTOR_H_
#define BIOFED_SERVER_UPDATE_REACTOR_H_

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>

#include <grpcpp/support/byte_buffer.h>
#include <grpcpp/support/server_callback.h>

#include "absl/status/status.h"
#include "server/federation_core.h"
#include "wire/update_stream.h"

namespace biofed {

class UpdateReactor;

// The updates still arriving. Thread-safe.
class ArrivingUpdates {
 public:
  // What the registry and a reactor share: the reactor (null once its call
  // is done) and the mutex that serialises its reactions with its end.
  struct Slot {
    std::recursive_mutex mutex;  // the end of a stream may run OnDone inline
    UpdateReactor* reactor = nullptr;
  };

  std::shared_ptr<Slot> Add(UpdateReactor* reactor);
  void Remove(const std::shared_ptr<Slot>& slot);
  // Ends every arriving update whose header is for a round before `current`.
  void EndThoseBefore(int64_t current);

 private:
  mutable std::mutex mutex_;
  std::set<std::shared_ptr<Slot>> slots_;
};

class UpdateReactor final : public grpc::ServerReadReactor<grpc::ByteBuffer> {
 public:
  // Reads the update `principal` (authenticated as a client) submits to
  // `core`; `reply` is gRPC's, filled with a serialized v1::SubmitReply
  // when the update is accepted. Registers with `arriving` until the call
  // is done, then deletes itself.
  UpdateReactor(FederationCore* core, ArrivingUpdates* arriving, std::string principal, grpc::ByteBuffer* reply);

  // Ends the call with FAILED_PRECONDITION, freeing its buffer, when its
  // header is for a round before `current`; the caller holds the slot's
  // mutex.
  void EndIfBefore(int64_t current);

  // A call refused before its first message (`status` is not OK).
  static grpc::ServerReadReactor<grpc::ByteBuffer>* Refuse(const grpc::Status& status);

  void OnReadDone(bool ok) override;
  void OnDone() override;

 private:
  // Decodes the message just read and takes it: the header, or the chunk
  // that follows it.
  absl::Status TakeMessage();
  absl::Status TakeHeader();
  // The stream has ended: checks the update and hands it to the core.
  absl::Status Accept();
  void Conclude(const absl::Status& status);

  FederationCore* const core_;
  ArrivingUpdates* const arriving_;
  bool concluded_ = false;  // Finish was called
  const std::string principal_;
  grpc::ByteBuffer* const reply_;
  grpc::ByteBuffer message_;
  UpdateChunkView chunk_;
  v1::UpdateHeader header_;
  std::optional<UpdateReceiver> body_;           // set once the header is accepted
  std::shared_ptr<ArrivingUpdates::Slot> slot_;  // set last in the constructor
};

}  // namespace biofed

#endif  // BIOFED_SERVER_UPDATE_REACTOR_H_
