// What an attacker is and knows, as typed settings: the attack (kind,
// budget, matcher options) and the threat model (which switches the attacker
// is given). AttackSpec's field list (VisitFields) is the one place its
// settings are named: config files, command-line flags (cli/flag_groups.h)
// and the compact form "KIND+key:value..." a sweep's attack axis uses are
// derived from it. Torch-free plain data; thread-safe.
#ifndef BIOFED_ATTACK_ATTACK_SETTINGS_H_
#define BIOFED_ATTACK_ATTACK_SETTINGS_H_

#include <cstdint>
#include <map>
#include <string>
#include <type_traits>

#include "absl/status/statusor.h"
#include "common/record_fields.h"

namespace biofed {

// kImprint: the closed-form recovery of a malicious server's imprint block
// (attack/imprint.h); it applies only to a victim that was sent one.
enum class AttackKind { kInvertingGradients, kDlg, kAnalytic, kFedAvg, kImprint };

absl::StatusOr<AttackKind> ParseAttackKind(const std::string& name);
// The closed-form inversions (analytic, imprint): no optimisation, so no
// iterations to run or to pay for, and the whole first-layer update needed.
inline bool IsClosedForm(AttackKind kind) { return kind == AttackKind::kAnalytic || kind == AttackKind::kImprint; }
std::string AttackKindName(AttackKind kind);

// Which update entries a WR-aware attacker leaves out of the matching, on
// the target and every candidate alike: none, or (kOracle) exactly the
// weights the client's WR pass reset, replayed from the audit (an upper
// bound on what knowing the resets can give an attacker), or (kPredicted)
// the positions predicted from the global weights and the update alone,
// knowing the protocol's d_re (attack/reset_prediction.h).
enum class UpdateMask { kNone, kOracle, kPredicted };
std::string UpdateMaskName(UpdateMask mask);  // "none", "oracle", "predicted"
absl::StatusOr<UpdateMask> ParseUpdateMask(const std::string& name);

// The imprint block's bins when a run does not say: with equal-mass
// intervals an example is alone in its interval with probability
// (1 - 1/256)^(B-1), 0.97 for B = 8 and 0.78 for B = 64.
inline constexpr int64_t kDefaultImprintBins = 256;

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
  // BatchNorm mode: the client's, taken from the record, unless the attack
  // config says eval (AttackConfig::attacker_batchnorm_eval).
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
  // kImprint: the attacker is the server, and sends the victim an imprint
  // block of this many bins (attack/server_behaviour.h).
  int64_t imprint_bins = kDefaultImprintBins;
  // IG and FedAvg return their last iterate instead of the best by
  // objective (the paper's pipeline; DLG always returns its last).
  bool last_iterate = false;
  // The attacker's model in BatchNorm eval mode whatever the client's (the
  // paper's pipeline: its victims trained in train mode); by default the
  // client's mode, taken from the record.
  bool attacker_batchnorm_eval = false;
  // IG, DLG and FedAvg; exclusive with ignore_largest_fraction.
  UpdateMask mask = UpdateMask::kNone;
  // With mask predicted: the d_re the attacker takes the protocol to use; 0
  // = the victim's own where the caller knows the protocol (sweep, attack on
  // a victim it builds).
  double mask_d_re = 0;
  // And WR's law it takes the protocol to use: the paper's (eq. 3, half the
  // reference's reset probability) or the reference (the authors' code).
  bool mask_paper_law = false;
};

struct AttackSpec {
  AttackConfig config;
  ThreatModel threat;
};

// Every setting of an attack spec, named as in config files (a flag is the
// name with '-' for '_'). The seed and the progress interval are the
// caller's, not settings.
template <typename Spec, typename Visitor,
          std::enable_if_t<std::is_same_v<std::decay_t<Spec>, AttackSpec>, int> = 0>
void VisitFields(Spec& s, Visitor&& v) {
  v("attack", s.config.kind, EnumText<AttackKind>{AttackKindName, ParseAttackKind});
  v("attack_iterations", s.config.iterations);
  v("attack_lr", s.config.lr);
  v("tv_weight", s.config.tv_weight);
  v("restarts", s.config.restarts);
  v("ignore_largest", s.config.ignore_largest_fraction);
  v("imprint_bins", s.config.imprint_bins);
  v("iterate", s.config.last_iterate, BoolText{"last", "best"});
  v("attacker_batchnorm", s.config.attacker_batchnorm_eval, BoolText{"eval", "client"});
  v("mask", s.config.mask, EnumText<UpdateMask>{UpdateMaskName, ParseUpdateMask});
  v("mask_d_re", s.config.mask_d_re);
  v("mask_wr_variant", s.config.mask_paper_law, BoolText{"paper", "reference"});
  v("labels", s.threat.labels_known, BoolText{"known", "inferred"});
  v("fl_factors", s.threat.fuzzy_factors_known, BoolText{"known", "unknown"});
  v("batch_size", s.threat.batch_size_known, BoolText{"known", "estimated"});
  v("local_hyperparameters", s.threat.local_hyperparameters_known, BoolText{"known", "unknown"});
}

// The spec with a predicting attacker's mask_d_re and WR law, where d_re is
// not set, the protocol's own (the protocol is public): what sweep, simulate
// and attack on a victim they build run. `paper_law`: the protocol's WR runs
// the paper's variant.
AttackSpec WithProtocolWr(AttackSpec spec, double protocol_d_re, bool paper_law);

// One line of help per setting, by name (for the derived flags).
const std::map<std::string, std::string>& AttackSettingHelp();

// INVALID_ARGUMENT naming the first setting out of its domain or a
// combination the attacks refuse (known labels with an estimated batch size).
absl::Status ValidateAttackSpec(const AttackSpec& spec);

// The compact form: the kind, then "+key:value" for each setting that
// differs from `base` (keys with '-' for '_'), leaving out the settings a
// scored attack records in columns of their own (iterations and the
// threat-model switches). "ig", "ig+ignore-largest:0.1".
std::string AttackSpecName(const AttackSpec& spec, const AttackSpec& base);
// Parses the compact form over `base`. INVALID_ARGUMENT naming `text` and the
// part that is wrong.
absl::StatusOr<AttackSpec> ParseAttackSpec(const std::string& text, const AttackSpec& base);

}  // namespace biofed

#endif  // BIOFED_ATTACK_ATTACK_SETTINGS_H_
