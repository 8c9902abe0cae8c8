// What the server does with the model it sends the attacked client: the
// honest server sends the global model; a malicious one sends a model of its
// choosing, here the imprint construction of Robbing the Fed
// (attack/imprint.h). Never a default: only the imprint attacker, which
// names what it does, simulate's server_behaviour imprint and `biofed server
// --malicious-imprint-bins` make a server malicious. Torch-free plain data;
// thread-safe.
#ifndef BIOFED_ATTACK_SERVER_BEHAVIOUR_H_
#define BIOFED_ATTACK_SERVER_BEHAVIOUR_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "attack/attack_settings.h"

namespace biofed {

struct ServerBehaviour {
  enum class Kind { kHonest, kImprint };
  Kind kind = Kind::kHonest;
  int64_t imprint_bins = 0;  // with kImprint, >= 2
  bool malicious() const { return kind != Kind::kHonest; }
};

// "honest" or "imprint"; the parse is INVALID_ARGUMENT naming both.
std::string ServerBehaviourKindName(ServerBehaviour::Kind kind);
absl::StatusOr<ServerBehaviour::Kind> ParseServerBehaviourKind(const std::string& name);

// What the server of `attack` sends: an active attacker (kImprint) is the
// server and imprints the model; every other attacker leaves it honest.
ServerBehaviour ServerBehaviourOf(const AttackConfig& attack);

}  // namespace biofed

#endif  // BIOFED_ATTACK_SERVER_BEHAVIOUR_H_
