#include "server/credentials.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "common/files.h"
#include "common/status_macros.h"

namespace biofed {
namespace {

constexpr size_t kMinTokenLength = 16;

absl::StatusOr<Role> ParseRole(absl::string_view name) {
  if (name == "client") return Role::kClient;
  if (name == "auditor") return Role::kAuditor;
  if (name == "scorer") return Role::kScorer;
  return absl::InvalidArgumentError(absl::StrCat("unknown role '", name, "' (client, auditor, scorer)"));
}

}  // namespace

bool Principal::Has(Role role) const { return std::find(roles.begin(), roles.end(), role) != roles.end(); }

std::string RoleName(Role role) {
  switch (role) {
    case Role::kClient: return "client";
    case Role::kAuditor: return "auditor";
    case Role::kScorer: return "scorer";
  }
  return "unknown";
}

absl::Status CredentialStore::Add(const std::string& name, const std::vector<Role>& roles, const std::string& token) {
  if (name.empty()) return absl::InvalidArgumentError("empty principal name");
  if (token.size() < kMinTokenLength) {
    return absl::InvalidArgumentError(absl::StrCat("the token of '", name, "' is shorter than ", kMinTokenLength));
  }
  if (by_token_.count(token)) return absl::InvalidArgumentError(absl::StrCat("the token of '", name, "' is not unique"));
  for (const auto& [t, p] : by_token_) {
    if (p.name == name) return absl::InvalidArgumentError(absl::StrCat("principal '", name, "' listed twice"));
  }
  by_token_[token] = Principal{name, roles};
  return absl::OkStatus();
}

absl::StatusOr<CredentialStore> CredentialStore::Parse(const std::string& text, const std::string& source) {
  CredentialStore store;
  int line_number = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++line_number;
    line = line.substr(0, line.find('#'));
    std::vector<std::string> fields = absl::StrSplit(line, absl::ByAnyChar(" \t\r"), absl::SkipEmpty());
    if (fields.empty()) continue;
    const std::string where = absl::StrCat(source, ":", line_number, ": ");
    if (fields.size() != 3) return absl::InvalidArgumentError(where + "expected '<name> <roles> <token>'");
    std::vector<Role> roles;
    for (absl::string_view r : absl::StrSplit(fields[1], ',', absl::SkipEmpty())) {
      auto role = ParseRole(r);
      if (!role.ok()) return absl::InvalidArgumentError(where + std::string(role.status().message()));
      roles.push_back(*role);
    }
    if (roles.empty()) return absl::InvalidArgumentError(where + "no roles");
    const absl::Status added = store.Add(fields[0], roles, fields[2]);
    if (!added.ok()) return absl::InvalidArgumentError(where + std::string(added.message()));
  }
  if (store.size() == 0) return absl::InvalidArgumentError(source + ": no credentials");
  return store;
}

absl::StatusOr<CredentialStore> CredentialStore::Load(const std::string& path) {
  BIOFED_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  return Parse(text, path);
}

bool CredentialStore::AnyoneHas(Role role) const {
  for (const auto& [token, principal] : by_token_) {
    if (principal.Has(role)) return true;
  }
  return false;
}

const Principal* CredentialStore::Find(const std::string& token) const {
  auto it = by_token_.find(token);
  return it == by_token_.end() ? nullptr : &it->second;
}

}  // namespace biofed
