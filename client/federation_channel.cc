#include "client/federation_channel.h"

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>

#include "common/files.h"
#include "common/status_macros.h"

namespace biofed {

absl::StatusOr<std::shared_ptr<grpc::Channel>> MakeFederationChannel(const std::string& address,
                                                                     const ChannelSecurity& s) {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(8 * 1024 * 1024);
  // Reconnect quickly after a server restart.
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 500);
  // After a failed connection the channel re-resolves the name, by default at
  // most every 30 s; a client that started before its server would wait that long.
  args.SetInt(GRPC_ARG_DNS_MIN_TIME_BETWEEN_RESOLUTIONS_MS, 500);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 2000);
  if (s.insecure) return grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), args);
  grpc::SslCredentialsOptions options;
  if (!s.ca_path.empty()) {
    BIOFED_ASSIGN_OR_RETURN(options.pem_root_certs, ReadFile(s.ca_path));
  }
  if (s.certificate_path.empty() != s.private_key_path.empty()) {
    return absl::InvalidArgumentError("a client certificate needs its key, and a key its certificate");
  }
  if (!s.certificate_path.empty()) {
    BIOFED_ASSIGN_OR_RETURN(options.pem_cert_chain, ReadFile(s.certificate_path));
    BIOFED_ASSIGN_OR_RETURN(options.pem_private_key, ReadFile(s.private_key_path));
  }
  if (!s.server_name.empty()) args.SetSslTargetNameOverride(s.server_name);
  return grpc::CreateCustomChannel(address, grpc::SslCredentials(options), args);
}

void PrepareContext(grpc::ClientContext* context, const std::string& token, absl::Duration timeout) {
  context->AddMetadata("authorization", "Bearer " + token);
  if (timeout != absl::InfiniteDuration()) {
    context->set_deadline(std::chrono::system_clock::now() + absl::ToChronoMilliseconds(timeout));
  }
}

}  // namespace biofed
