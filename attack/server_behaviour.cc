#include "attack/server_behaviour.h"

#include "absl/strings/str_cat.h"

namespace biofed {

std::string ServerBehaviourKindName(ServerBehaviour::Kind kind) {
  return kind == ServerBehaviour::Kind::kImprint ? "imprint" : "honest";
}

absl::StatusOr<ServerBehaviour::Kind> ParseServerBehaviourKind(const std::string& name) {
  if (name == "honest") return ServerBehaviour::Kind::kHonest;
  if (name == "imprint") return ServerBehaviour::Kind::kImprint;
  return absl::InvalidArgumentError(absl::StrCat("unknown server behaviour '", name, "' (honest or imprint)"));
}

ServerBehaviour ServerBehaviourOf(const AttackConfig& attack) {
  ServerBehaviour b;
  if (attack.kind != AttackKind::kImprint) return b;
  b.kind = ServerBehaviour::Kind::kImprint;
  b.imprint_bins = attack.imprint_bins;
  return b;
}

}  // namespace biofed
