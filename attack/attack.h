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
#include "attack/batch_size_estimate.h"
#include "attack/update_record.h"

namespace biofed {

enum class AttackKind { kInvertingGradients, kDlg, kAnalytic, kFedAvg };

absl::StatusOr<AttackKind> ParseAttackKind(const std::string& name);
std::string AttackKindName(AttackKind kind);

struct ThreatModel {
  bool labels_known = false;          // true labels given; else inferred
  // Without B the attacker estimates it from the update (batch_size_estimate.h)
  // and reconstructs that many images; known labels would give B away, so
  // that combination is refused.
  bool batch_size_known = true;
  // lr, local steps, batch schedule. Only the FedAvg attack uses them (to
  // replay the K steps); without them it matches the update as one gradient
  // of all its examples, which the unknown lr cannot spoil (cosine is blind
  // to scale). IG and DLG always take that one-step view.
  bool local_hyperparameters_known = true;
  bool fuzzy_factors_known = false;   // adaptive attacker told the client's FL factors
  // BatchNorm mode: always the client's, taken from the record.
};

struct AttackConfig {
  AttackKind kind = AttackKind::kInvertingGradients;
  int64_t iterations = 1000;   // IG / FedAvg optimisation steps; DLG L-BFGS outer steps
  double lr = 0.1;             // IG Adam learning rate (L-BFGS uses 1)
  double tv_weight = 1e-6;     // total-variation weight (IG, FedAvg)
  int64_t restarts = 1;
  uint64_t seed = 0;
  int64_t report_every = 50;   // the objective is read on the host only this often
  // A robust matcher: the largest-magnitude fraction of each weight tensor of
  // the update (the Linear and Conv2d weights, where WR resets weights) is
  // left out of the matching, on both sides. Meant for updates carrying large,
  // sparse, data-independent entries such as WR's resets. 0 = off; IG, DLG
  // and FedAvg only (analytic inversion refuses it).
  double ignore_largest_fraction = 0.0;
};

// What the attacker may know beyond the record, per the threat model.
struct AttackerKnowledge {
  std::optional<std::vector<int64_t>> labels;     // when labels_known
  std::optional<std::vector<at::Tensor>> factors; // FL factors per MechanismTargets, when known
};

struct AttackResult {
  at::Tensor images;               // normalised [B, C, H, W], CPU
  std::vector<int64_t> labels;     // used or inferred
  bool labels_inferred = false;
  double objective = 0;            // final gradient-matching objective (not an image error)
  std::string objective_name;
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
