// The server's side of one SubmitUpdate call, on gRPC's callback API with
// raw messages: each message is decoded in place as it arrives (a data
// chunk's payload is read from gRPC's receive buffers, not copied into a
// message first), the header is checked with the core before any tensor
// byte is accepted, the tensors are assembled and validated chunk by chunk
// (UpdateReceiver), and the complete update goes to the core. A rejection
// ends the call at once with its precise status, is counted and logged;
// the core and the global model are untouched.
// Thread-safety: gRPC runs one reaction of a call at a time (one read is in
// flight at most), and the core is thread-safe.
#ifndef BIOFED_SERVER_UPDATE_REACTOR_H_
#define BIOFED_SERVER_UPDATE_REACTOR_H_

#include <optional>
#include <string>

#include <grpcpp/support/byte_buffer.h>
#include <grpcpp/support/server_callback.h>

#include "absl/status/status.h"
#include "server/federation_core.h"
#include "wire/update_stream.h"

namespace biofed {

class UpdateReactor final : public grpc::ServerReadReactor<grpc::ByteBuffer> {
 public:
  // Reads the update `principal` (authenticated as a client) submits to
  // `core`; `reply` is gRPC's, filled with a serialized v1::SubmitReply
  // when the update is accepted. Deletes itself when the call is done.
  UpdateReactor(FederationCore* core, std::string principal, grpc::ByteBuffer* reply);

  // A call refused before its first message (`status` is not OK).
  static grpc::ServerReadReactor<grpc::ByteBuffer>* Refuse(const grpc::Status& status);

  void OnReadDone(bool ok) override;
  void OnDone() override { delete this; }

 private:
  // Decodes the message just read and takes it: the header, or the chunk
  // that follows it.
  absl::Status TakeMessage();
  absl::Status TakeHeader();
  // The stream has ended: checks the update and hands it to the core.
  absl::Status Accept();
  void Conclude(const absl::Status& status);

  FederationCore* const core_;
  const std::string principal_;
  grpc::ByteBuffer* const reply_;
  grpc::ByteBuffer message_;
  UpdateChunkView chunk_;
  v1::UpdateHeader header_;
  std::optional<UpdateReceiver> body_;  // set once the header is accepted
};

}  // namespace biofed

#endif  // BIOFED_SERVER_UPDATE_REACTOR_H_
