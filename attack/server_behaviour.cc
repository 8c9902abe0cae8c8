#include "attack/server_behaviour.h"

namespace biofed {

ServerBehaviour ServerBehaviourOf(const AttackConfig& attack) {
  ServerBehaviour b;
  if (attack.kind != AttackKind::kImprint) return b;
  b.kind = ServerBehaviour::Kind::kImprint;
  b.imprint_bins = attack.imprint_bins;
  return b;
}

}  // namespace biofed
