// A running gRPC federation server: the service bound to an address with TLS
// (default), mutual TLS, or explicitly insecure transport. Thread-safe.
#ifndef BIOFED_SERVER_FEDERATION_SERVER_H_
#define BIOFED_SERVER_FEDERATION_SERVER_H_

#include <memory>
#include <string>

#include <grpcpp/server.h>

#include "absl/status/statusor.h"
#include "server/federation_service.h"

namespace biofed {

struct ServerSecurity {
  bool insecure = false;          // plain TCP; only when asked for explicitly
  std::string certificate_path;   // PEM chain of the server
  std::string private_key_path;   // PEM key of the server
  std::string client_ca_path;     // set: mutual TLS, clients must present a certificate this CA signed
};

class FederationServer {
 public:
  // Binds `address` ("host:port"; port 0 picks a free one) and starts
  // serving. INVALID_ARGUMENT for unreadable certificates, UNAVAILABLE when
  // the address cannot be bound.
  static absl::StatusOr<std::unique_ptr<FederationServer>> Start(const std::string& address,
                                                                 const ServerSecurity& security,
                                                                 FederationCore* core, CredentialStore credentials);
  ~FederationServer();

  int port() const { return port_; }
  // Stops accepting calls and cancels running ones within `grace`.
  void Shutdown(absl::Duration grace = absl::Seconds(1));

 private:
  FederationServer() = default;
  std::unique_ptr<FederationService> service_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
};

}  // namespace biofed

#endif  // BIOFED_SERVER_FEDERATION_SERVER_H_
