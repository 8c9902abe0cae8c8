// The flags of a process that connects to a federation server (`biofed
// client`, `biofed audit`): the address, TLS and the bearer credential,
// declared once. Built with the federation layer only. Not thread-safe.
#ifndef BIOFED_CLI_CONNECTION_FLAGS_H_
#define BIOFED_CLI_CONNECTION_FLAGS_H_

#include <string>

#include "absl/status/statusor.h"
#include "client/federation_channel.h"
#include "common/flags.h"

namespace biofed {

struct ConnectionFlags {
  std::string server = "localhost:50051";
  ChannelSecurity security;
  std::string token;       // only where the command offers --token
  std::string token_file;
  double max_unavailable_s = 120;
};

// --server, --ca, --cert, --key, --server-name, --insecure, --token-file,
// --max-unavailable-s, and --token when `token_flag`.
void AddConnectionFlags(FlagSet& flags, ConnectionFlags* connection, bool token_flag);

// The credential: --token, or the contents of --token-file without
// surrounding whitespace. INVALID_ARGUMENT when neither is given.
absl::StatusOr<std::string> ReadToken(const ConnectionFlags& connection);

}  // namespace biofed

#endif  // BIOFED_CLI_CONNECTION_FLAGS_H_
