// The client's side of SubmitUpdate: the header with every tensor's
// declaration, the tensors' bytes in chunks (the last of each with the
// tensor's CRC-32C), the audit manifest when there is one, and the
// trailer. A data chunk's message is a small encoded prefix followed by a
// gRPC slice that points into the tensor's own memory, so this side copies
// no tensor bytes: the transport reads them straight from `update`, which
// the slices keep alive until the transport lets go of them, at the latest
// when the context (which owns gRPC's call) is destroyed; a call that ends
// early may hold chunks it never sent until then. The call goes through
// gRPC's generic stub, which sends such raw messages. Thread-safe for
// distinct contexts.
#ifndef BIOFED_WIRE_UPDATE_SENDER_H_
#define BIOFED_WIRE_UPDATE_SENDER_H_

#include <memory>

#include <grpcpp/client_context.h>
#include <grpcpp/generic/generic_stub.h>

#include "absl/status/status.h"
#include "biofed/v1/federation.pb.h"
#include "wire/host_tensor.h"
#include "wire/tensor_stream.h"

namespace biofed {

// Sends `update` as one SubmitUpdate call through `stub` (`context`
// carries the credential and deadline). `header`'s tensor declarations are
// replaced by `update`'s. Blocks until the call ends. Returns the call's
// status as an absl::Status (INTERNAL when the server answers OK without a
// readable reply); `reply` is filled when it is OK.
absl::Status SendUpdate(grpc::GenericStub& stub, grpc::ClientContext* context, v1::UpdateHeader header,
                        std::shared_ptr<const TensorTable> update, const v1::AuditManifest* manifest,
                        size_t chunk_bytes, v1::SubmitReply* reply);

}  // namespace biofed

#endif  // BIOFED_WIRE_UPDATE_SENDER_H_
