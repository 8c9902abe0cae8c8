// One attacked update, scored: runs the configured attack on an update
// record (exactly what the client sent) and scores the reconstruction
// against the true batch the audit manifest names. Shared by
// `biofed simulate` and `biofed audit`. Thread-safe for distinct records.
#ifndef BIOFED_SIMULATE_ATTACK_SCORING_H_
#define BIOFED_SIMULATE_ATTACK_SCORING_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "attack/update_record.h"
#include "simulate/results_store.h"

namespace biofed {

struct AuditAttackOptions {
  std::string attack = "ig";
  int64_t iterations = 1000;
  double lr = 0.1;
  double tv_weight = 1e-6;
  int64_t restarts = 1;
  double ignore_largest_fraction = 0.0;  // AttackConfig's robust matcher
  std::string labels = "inferred";  // or "known"
  bool fl_factors_known = false;    // adaptive attacker (only where the client ran FL)
  uint64_t seed = 0;
};

absl::StatusOr<AttackRow> AttackAndScore(const AuditAttackOptions& options, const UpdateRecord& record,
                                         const AuditRecord& audit, const torch::Device& device);

}  // namespace biofed

#endif  // BIOFED_SIMULATE_ATTACK_SCORING_H_
