// `biofed sweep`'s configuration: the paper's gradient-inversion grid (its
// Fig. 6 and Supplementary Table 5) as a union of grids, each the full
// product models x mechanism subsets x victim states x attacks x batch
// sizes x seeds x defenses, plus the settings every cell shares. JSON file
// (every key optional, unknown keys refused), four presets ("smoke",
// "quick", "paper-cpu", "paper"), and its JSON form, which the study records. Plain data;
// thread-safe.
#ifndef BIOFED_SWEEP_SWEEP_CONFIG_H_
#define BIOFED_SWEEP_SWEEP_CONFIG_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "attack/attack_settings.h"
#include "client/biomod_options.h"
#include "client/update_share.h"

namespace biofed {

BiomodOptions DefaultSweepMechanismParameters();

// A victim of the victims axis, typed: the global model's state, how many
// clients' updates the attacker sees together, and what each client sends
// of its one FedSGD step (client/update_share.h).
struct SweepVictim {
  bool trained = false;
  int64_t clients = 1;
  SharedKind share = SharedKind::kPseudoGradient;
  // The SGD learning rate of the attacked step; 0: the config's `lr`. (The
  // reset part of a WR client's pseudo-gradient scales with 1 / lr.)
  double client_lr = 0;
  // The client's local SGD steps in the attacked round, each on its own
  // batch of batch_size (the pseudo-gradient share only).
  int64_t local_steps = 1;
  // A trained victim's state: "mid" (train_rounds rounds, the default) or
  // "converged" (trained until its test accuracy plateaus, SweepConfig's
  // plateau rule).
  bool converged = false;

  bool operator==(const SweepVictim& o) const {
    return trained == o.trained && clients == o.clients && share == o.share && client_lr == o.client_lr &&
           converged == o.converged && local_steps == o.local_steps;
  }
};
// INVALID_ARGUMENT naming `text` unless "untrained" or "trained", optionally
// followed by "+aggregate:K" (1 <= K <= 64), "+share:S" (raw, gradient or
// pseudo_gradient), "+local-steps:K" (1 to 100, pseudo_gradient only),
// "+client-lr:LR" (> 0) and, on a trained victim,
// "+state:mid" or "+state:converged", each once.
absl::StatusOr<SweepVictim> ParseSweepVictim(const std::string& text);
// "trained", "untrained+aggregate:4", "trained+share:raw",
// "untrained+local-steps:4", "untrained+client-lr:0.1",
// "trained+state:converged": the defaults (one client, the pseudo-gradient,
// one step, the shared lr, the mid state) unnamed, so
// older studies keep their names.
std::string SweepVictimName(const SweepVictim& victim);

AttackSpec DefaultSweepAttacker();

struct SweepGrid {
  std::vector<std::string> models = {"mlp"};
  // Comma lists of fl, wr, ws, or "none": the 8 subsets by default.
  std::vector<std::string> mechanisms = {"none", "fl", "wr", "ws", "fl,wr", "fl,ws", "wr,ws", "fl,wr,ws"};
  // The attacked update: "untrained" or "trained" (after train_rounds FedSGD
  // rounds) one client's, or "+aggregate:K" after either: the mean of K
  // clients' updates of that round, what an observer of secure aggregation
  // sees (each client its own batch of batch_size and its own seed). Then
  // "+share:raw" (the autograd gradient before FL and WR, the paper's
  // setting) or "+share:gradient" (the step FL scaled, no WR); by default the
  // pseudo-gradient (w - w') / lr of the one step, WR's resets inside.
  std::vector<std::string> victims = {"untrained", "trained"};
  // Attackers in the compact form of attack/attack_settings.h: ig, dlg,
  // analytic or imprint, then any "+setting:value" over the shared attacker,
  // e.g. "ig+ignore-largest:0.1" (the robust matcher, a WR-aware attacker) or
  // "imprint+imprint-bins:1024" (a malicious server: it sends the victim an
  // imprint block, attack/imprint.h).
  std::vector<std::string> attacks = {"ig"};
  std::vector<int64_t> batch_sizes = {1, 4};
  std::vector<int64_t> seeds = {1, 2};
  // "none", "noise:C:SIGMA" (clip the update's L2 norm to C, add N(0, (SIGMA*C)^2)
  // per coordinate) or "topk:F" (keep the fraction F of each tensor's largest entries).
  std::vector<std::string> defenses = {"none"};
  int64_t attack_iterations = 0;  // 0: the sweep's attack_iterations
};

struct SweepConfig {
  std::string dataset = "fashion-mnist";
  std::string data_dir;
  // Where the training federations' clients train and the attacks run:
  // "cpu" or "cuda" (a shard of a GPU job array gets one GPU). A setting
  // every cell shares: a study is not resumed or merged across devices.
  std::string device = "cpu";
  // The mechanisms' parameters: tau, d_re, gamma, wr_variant (the authors'
  // victims used d_re 8).
  BiomodOptions mechanism_parameters = DefaultSweepMechanismParameters();
  // The federation that trains the "trained" victims and measures the
  // accuracy cost: FedSGD, IID partitions, every client every round.
  int64_t train_rounds = 200;
  int64_t train_clients = 4;
  int64_t train_batch = 25;
  double lr = 0.1;  // also the victim client's lr (its update is (w - w') / lr)
  int64_t eval_every = 20;
  // The "converged" state: FedSGD rounds in blocks of eval_every until the
  // best test accuracy of the last plateau_evaluations evaluations exceeds
  // the best before them by no more than plateau_gain (accuracy, 0.002 = 0.2
  // points), or converge_max_rounds.
  // 25 evaluations of 20 rounds: no 0.2-point gain in 500 FedSGD rounds (5
  // evaluations stopped noisy FedSGD runs 0.03-0.07 below their plateau).
  int64_t converge_max_rounds = 6000;
  int64_t plateau_evaluations = 25;
  double plateau_gain = 0.002;
  // The attacker every cell starts from (its kind comes from the cell):
  // attack_iterations, attack_lr, tv_weight, restarts, ignore_largest and the
  // threat model; the paper's attacker was given the labels.
  AttackSpec attacker = DefaultSweepAttacker();
  std::vector<SweepGrid> grids = {SweepGrid{}};
};

// "smoke", "quick", "paper-cpu" or "paper".
absl::StatusOr<SweepConfig> SweepPreset(const std::string& name);

// The attacker of one cell: the shared attacker with the cell's compact
// attack name applied (ParseAttackSpec) and the cell's iterations.
absl::StatusOr<AttackSpec> CellAttacker(const SweepConfig& config, const std::string& attack, int64_t iterations);

// INVALID_ARGUMENT naming the first value out of its domain.
absl::Status ValidateSweepConfig(const SweepConfig& config);

std::string SweepConfigJson(const SweepConfig& config);
// The settings every cell shares (everything but the grids): a study can
// only be resumed or extended under the same ones.
std::string SweepSharedSettingsJson(const SweepConfig& config);

// Applies the keys of `json` over `base` (a "grids" key replaces all grids;
// each grid's missing keys take SweepGrid's defaults). INVALID_ARGUMENT
// naming `source` and the key for malformed JSON, unknown keys or types.
absl::StatusOr<SweepConfig> ParseSweepConfig(const std::string& json, const std::string& source, SweepConfig base = {});

}  // namespace biofed

#endif  // BIOFED_SWEEP_SWEEP_CONFIG_H_
