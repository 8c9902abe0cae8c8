// Who may call the federation: a table of bearer tokens, each naming one
// principal and its roles. File format, one principal per line:
//     <name> <role>[,<role>...] <token>
// roles: client, auditor, scorer; '#' starts a comment. Names are the
// client ids the federation uses. Immutable after loading; thread-safe.
#ifndef BIOFED_SERVER_CREDENTIALS_H_
#define BIOFED_SERVER_CREDENTIALS_H_

#include <string>
#include <unordered_map>
#include <vector>

#include "absl/status/statusor.h"

namespace biofed {

enum class Role { kClient, kAuditor, kScorer };

struct Principal {
  std::string name;
  std::vector<Role> roles;
  bool Has(Role role) const;
};

class CredentialStore {
 public:
  // INVALID_ARGUMENT naming the line for a malformed entry, an unknown role,
  // a token shorter than 16 characters, or a repeated name or token.
  static absl::StatusOr<CredentialStore> Parse(const std::string& text, const std::string& source);
  static absl::StatusOr<CredentialStore> Load(const std::string& path);

  // The principal holding `token`, or nullptr.
  const Principal* Find(const std::string& token) const;
  size_t size() const { return by_token_.size(); }
  bool AnyoneHas(Role role) const;

  // Adds a principal (used by `biofed simulate`, which makes its own tokens).
  absl::Status Add(const std::string& name, const std::vector<Role>& roles, const std::string& token);

 private:
  std::unordered_map<std::string, Principal> by_token_;
};

std::string RoleName(Role role);

}  // namespace biofed

#endif  // BIOFED_SERVER_CREDENTIALS_H_
