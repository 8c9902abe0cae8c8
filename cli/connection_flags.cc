#include "cli/connection_flags.h"

#include "absl/strings/strip.h"
#include "common/files.h"
#include "common/status_macros.h"

namespace biofed {

void AddConnectionFlags(FlagSet& flags, ConnectionFlags* c, bool token_flag) {
  flags.AddString("server", &c->server, "host:port of the federation server");
  flags.AddString("ca", &c->security.ca_path, "PEM of the CA that signed the server (default: system roots)");
  flags.AddString("cert", &c->security.certificate_path, "PEM client certificate, for mutual TLS");
  flags.AddString("key", &c->security.private_key_path, "PEM client key, for mutual TLS");
  flags.AddString("server-name", &c->security.server_name, "name to check the server certificate against");
  flags.AddBool("insecure", &c->security.insecure, "plain TCP without TLS");
  if (token_flag) flags.AddString("token", &c->token, "the credential (prefer --token-file)");
  flags.AddString("token-file", &c->token_file, "file holding the credential");
  flags.AddDouble("max-unavailable-s", &c->max_unavailable_s, "give up after the server is unreachable this long");
}

absl::StatusOr<std::string> ReadToken(const ConnectionFlags& c) {
  std::string token = c.token;
  if (!c.token_file.empty()) {
    BIOFED_ASSIGN_OR_RETURN(std::string text, ReadFile(c.token_file));
    token = std::string(absl::StripAsciiWhitespace(text));
  }
  if (token.empty()) return absl::InvalidArgumentError("--token-file (or --token) is required");
  return token;
}

}  // namespace biofed
