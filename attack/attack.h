// Gradient-inversion attacks on an update record: Inverting Gradients
// (Geiping et al. 2020), DLG (Zhu et al. 2019), analytic inversion of a first
// Linear layer, and a FedAvg-aware attack that replays the client's local
// SGD steps differentiably. Every threat-model switch is explicit here and
// recorded with each result. No gRPC; runs on the record's tensors on any
// device. Not thread-safe per call; independent calls may run in parallel
// threads on independent records.
#ifndef BIOFED_ATTACK_ATTACK_H_
#define BIOFED_ATTACK_ATTACK_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "attack/attack_settings.h"
#include "attack/batch_size_estimate.h"
#include "attack/update_record.h"

namespace biofed {

// What the attacker may know beyond the record, per the threat model.
struct AttackerKnowledge {
  std::optional<std::vector<int64_t>> labels;     // when labels_known
  std::optional<std::vector<at::Tensor>> factors; // FL factors per MechanismTargets, when known
  // With AttackConfig::mask oracle: the reset weights per MechanismTargets
  // (bool; ClientResetMask).
  std::optional<std::vector<at::Tensor>> reset_mask;
};

struct AttackResult {
  at::Tensor images;               // normalised [B, C, H, W], CPU
  std::vector<int64_t> labels;     // used or inferred
  bool labels_inferred = false;
  double objective = 0;            // final gradient-matching objective (not an image error)
  std::string objective_name;
  // The paper's metric: 100 (1 - cos) between the gradient the attacker
  // matched (its view of the update: known FL factors divided out, ignored
  // entries masked) and the one-step gradient of the final reconstruction
  // with its labels, in the attacker's BatchNorm mode; in [0, 200].
  double gradient_error_percent = 0;
  int64_t iterations = 0;
  double seconds = 0;
  std::optional<BatchSizeEstimate> batch_size_estimate;  // when the batch size was unknown
};

// Called every report_every iterations with (iteration, total, objective).
using AttackProgress = std::function<void(int64_t, int64_t, double)>;

// Runs the configured attack on `record` on `device`. Returns
// INVALID_ARGUMENT when the attack does not apply (e.g. analytic inversion
// without a first Linear layer, or batch > 1) or a switch is unsupported.
absl::StatusOr<AttackResult> RunAttack(const UpdateRecord& record, const AttackerKnowledge& knowledge,
                                       const ThreatModel& threat, const AttackConfig& config,
                                       const at::Device& device, const AttackProgress& progress = nullptr);

// The attacker's view of what the client sent, as gradients aligned with the
// model's parameters; FL factors divided out when `factors` is given.
absl::StatusOr<std::vector<at::Tensor>> TargetGradients(
    const Model& model, const UpdateRecord& record,
    const std::optional<std::vector<at::Tensor>>& factors);

}  // namespace biofed

#endif  // BIOFED_ATTACK_ATTACK_H_
