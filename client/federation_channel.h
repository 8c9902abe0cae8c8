// A gRPC channel to the federation server (TLS by default, optional client
// certificate for mutual TLS, plain TCP only when asked for) and the
// per-call credential. Shared by clients, auditors and scorers. Thread-safe.
#ifndef BIOFED_CLIENT_FEDERATION_CHANNEL_H_
#define BIOFED_CLIENT_FEDERATION_CHANNEL_H_

#include <memory>
#include <string>

#include <grpcpp/channel.h>
#include <grpcpp/client_context.h>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace biofed {

struct ChannelSecurity {
  bool insecure = false;
  std::string ca_path;           // PEM of the CA that signed the server; empty: system roots
  std::string certificate_path;  // mutual TLS: this client's certificate chain
  std::string private_key_path;  // mutual TLS: its key
  std::string server_name;       // override of the name checked against the server certificate
};

absl::StatusOr<std::shared_ptr<grpc::Channel>> MakeFederationChannel(const std::string& address,
                                                                     const ChannelSecurity& security);

// Adds the bearer token; a deadline when `timeout` is finite.
void PrepareContext(grpc::ClientContext* context, const std::string& token,
                    absl::Duration timeout = absl::InfiniteDuration());

}  // namespace biofed

#endif  // BIOFED_CLIENT_FEDERATION_CHANNEL_H_
