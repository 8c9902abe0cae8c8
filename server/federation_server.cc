#include "server/federation_server.h"

#include <chrono>

#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server_builder.h>

#include "absl/strings/str_cat.h"
#include "common/files.h"
#include "common/status_macros.h"

namespace biofed {
namespace {

// Room for one chunk plus its framing.
constexpr int kMaxMessageBytes = 4 * 1024 * 1024;

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> MakeCredentials(const ServerSecurity& s) {
  if (s.insecure) return grpc::InsecureServerCredentials();
  if (s.certificate_path.empty() || s.private_key_path.empty()) {
    return absl::InvalidArgumentError(
        "TLS needs a server certificate and key (--tls-cert, --tls-key); --insecure turns TLS off");
  }
  grpc::SslServerCredentialsOptions options;
  grpc::SslServerCredentialsOptions::PemKeyCertPair pair;
  BIOFED_ASSIGN_OR_RETURN(pair.cert_chain, ReadFile(s.certificate_path));
  BIOFED_ASSIGN_OR_RETURN(pair.private_key, ReadFile(s.private_key_path));
  options.pem_key_cert_pairs.push_back(pair);
  if (!s.client_ca_path.empty()) {
    BIOFED_ASSIGN_OR_RETURN(options.pem_root_certs, ReadFile(s.client_ca_path));
    options.client_certificate_request = GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY;
  }
  return grpc::SslServerCredentials(options);
}

}  // namespace

absl::StatusOr<std::unique_ptr<FederationServer>> FederationServer::Start(const std::string& address,
                                                                         const ServerSecurity& security,
                                                                         FederationCore* core,
                                                                         CredentialStore credentials) {
  BIOFED_ASSIGN_OR_RETURN(auto server_credentials, MakeCredentials(security));
  std::unique_ptr<FederationServer> server(new FederationServer());
  server->service_ = std::make_unique<FederationService>(core, std::move(credentials));
  grpc::ServerBuilder builder;
  builder.AddListeningPort(address, server_credentials, &server->port_);
  // gRPC sets SO_REUSEPORT by default: a second server on a port in use would
  // start, and the kernel would hand each new connection to one of the two.
  // A client sent to a listener nobody serves waits out its deadline.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  builder.RegisterService(server->service_.get());
  builder.SetMaxReceiveMessageSize(kMaxMessageBytes);
  // A larger HTTP/2 receive window lets a client stream a large update
  // without waiting for window updates after every 64 KiB (5x on loopback).
  builder.AddChannelArgument(GRPC_ARG_HTTP2_STREAM_LOOKAHEAD_BYTES, 16 * 1024 * 1024);
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MAX_FRAME_SIZE, 4 * 1024 * 1024);
  server->server_ = builder.BuildAndStart();
  if (server->server_ == nullptr || server->port_ == 0) {
    return absl::UnavailableError(absl::StrCat("cannot listen on ", address, " (is another server using it?)"));
  }
  return server;
}

FederationServer::~FederationServer() { Shutdown(absl::ZeroDuration()); }

void FederationServer::Shutdown(absl::Duration grace) {
  if (server_ == nullptr) return;
  server_->Shutdown(std::chrono::system_clock::now() + absl::ToChronoMilliseconds(grace));
  server_->Wait();
  server_.reset();
}

}  // namespace biofed
