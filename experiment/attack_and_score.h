// The one path from an attacked update to its scores, shared by `biofed
// attack`, `simulate`, `audit` and `sweep`: run the attack on exactly what
// the client sent (the record) with what the threat model lets the attacker
// know (taken from the audit section), then match the reconstruction to the
// true batch and score it. Thread-safe for distinct records.
#ifndef BIOFED_EXPERIMENT_ATTACK_AND_SCORE_H_
#define BIOFED_EXPERIMENT_ATTACK_AND_SCORE_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "attack/attack.h"
#include "attack/metrics.h"
#include "attack/update_record.h"
#include "experiment/scored_attack.h"

namespace biofed {

struct AttackRequest {
  AttackSpec spec;
  std::string name;  // the study's name for this attacker (AttackSpecName against its base)
  uint64_t seed = 0;
  int64_t report_every = 0;  // progress interval in iterations; 0: none
  AttackProgress progress;
};

struct AttackOutcome {
  ScoredAttack scored;
  AttackResult result;         // the reconstruction, labels, batch-size estimate
  BatchScore score;            // per matched image
  at::Tensor truth, reconstruction;  // on [0, 1], CPU
  ThreatModel threat;          // as applied: FL factors are known only where the client ran FL
};

// INVALID_ARGUMENT for an attack that does not apply to the record; the
// attack's own errors otherwise.
absl::StatusOr<AttackOutcome> AttackAndScore(const AttackRequest& request, const UpdateRecord& record,
                                             const AuditRecord& audit, const at::Device& device);

}  // namespace biofed

#endif  // BIOFED_EXPERIMENT_ATTACK_AND_SCORE_H_
