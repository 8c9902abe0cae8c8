// absl::Status <-> grpc::Status: both use the canonical status codes, so a
// rejection keeps its exact code across the wire. Thread-safe.
#ifndef BIOFED_WIRE_GRPC_STATUS_H_
#define BIOFED_WIRE_GRPC_STATUS_H_

#include <string>

#include <grpcpp/support/status.h>

#include "absl/status/status.h"

namespace biofed {

inline grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()), std::string(status.message()));
}

inline absl::Status FromGrpcStatus(const grpc::Status& status) {
  if (status.ok()) return absl::OkStatus();
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()), status.error_message());
}

}  // namespace biofed

#endif  // BIOFED_WIRE_GRPC_STATUS_H_
