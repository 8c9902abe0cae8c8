#include "sweep/sweep_config.h"

#include <algorithm>
#include <cmath>
#include <set>

#include <nlohmann/json.hpp>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "client/biomod_options.h"
#include "common/json_config.h"
#include "common/status_macros.h"
#include "models/model_spec.h"
#include "sweep/defense.h"
#include "sweep/sweep_cells.h"
#include "sweep/sweep_mechanisms.h"

namespace biofed {
namespace {

using Json = nlohmann::json;

template <typename Visitor>
void VisitGridFields(SweepGrid& g, Visitor&& v) {
  v("models", g.models);
  v("mechanisms", g.mechanisms);
  v("victims", g.victims);
  v("attacks", g.attacks);
  v("batch_sizes", g.batch_sizes);
  v("seeds", g.seeds);
  v("defenses", g.defenses);
  v("attack_iterations", g.attack_iterations);
}

// Every shared key, bound to its field ("grids" is handled apart).
template <typename Visitor>
void VisitSharedFields(SweepConfig& c, Visitor&& v) {
  v("dataset", c.dataset);
  v("data_dir", c.data_dir);
  v("device", c.device);
  VisitParameters(c.mechanism_parameters, v);
  v("train_rounds", c.train_rounds);
  v("train_clients", c.train_clients);
  v("train_batch", c.train_batch);
  v("lr", c.lr);
  v("eval_every", c.eval_every);
  v("converge_max_rounds", c.converge_max_rounds);
  v("plateau_evaluations", c.plateau_evaluations);
  v("plateau_gain", c.plateau_gain);
  // The attacker's settings but its kind, which each cell's attack names.
  VisitFields(c.attacker, [&](const char* key, auto& field, const auto&... codec) {
    if (std::string(key) != "attack") v(key, field, codec...);
  });
}

Json SharedJson(const SweepConfig& config) {
  SweepConfig c = config;
  Json j = Json::object();
  WriteJsonKeys(c, [](SweepConfig& target, auto&& v) { VisitSharedFields(target, v); }, j);
  // Settings added after the first studies stay unwritten at their
  // defaults, the values those studies ran with, so that they still resume
  // and merge: the device, the imprint bins and the attacker switches.
  const Json added_later = {{"device", "cpu"},
                            {"converge_max_rounds", 6000},
                            {"plateau_evaluations", 25},
                            {"plateau_gain", 0.002},
                            {"imprint_bins", kDefaultImprintBins},
                            {"iterate", "best"},
                            {"attacker_batchnorm", "client"},
                            {"mask", "none"},
                            {"mask_d_re", 0},
                            {"mask_wr_variant", "reference"},
                            {"wr_every", "1"}};
  for (const auto& [key, default_value] : added_later.items()) {
    if (j.contains(key) && j.at(key) == default_value) j.erase(key);
  }
  return j;
}

}  // namespace

BiomodOptions DefaultSweepMechanismParameters() {
  BiomodOptions parameters;
  parameters.d_re = 8.0;
  return parameters;
}

AttackSpec DefaultSweepAttacker() {
  AttackSpec attacker;
  attacker.config.iterations = 500;
  attacker.threat.labels_known = true;
  return attacker;
}

absl::StatusOr<SweepVictim> ParseSweepVictim(const std::string& text) {
  const std::vector<std::string> parts = absl::StrSplit(text, '+');
  SweepVictim victim;
  victim.trained = parts[0] == "trained";
  bool ok = victim.trained || parts[0] == "untrained";
  std::set<std::string> seen;
  for (size_t i = 1; ok && i < parts.size(); ++i) {
    const std::vector<std::string> kv = absl::StrSplit(parts[i], absl::MaxSplits(':', 1));
    ok = kv.size() == 2 && seen.insert(kv[0]).second;
    if (ok && kv[0] == "aggregate") {
      ok = absl::SimpleAtoi(kv[1], &victim.clients) && victim.clients >= 1 && victim.clients <= 64;
    } else if (ok && kv[0] == "share") {
      absl::StatusOr<SharedKind> share = ParseSharedKind(kv[1]);
      ok = share.ok();
      if (ok) victim.share = *share;
    } else if (ok && kv[0] == "client-lr") {
      ok = absl::SimpleAtod(kv[1], &victim.client_lr) && victim.client_lr > 0 && std::isfinite(victim.client_lr);
    } else if (ok && kv[0] == "local-steps") {
      ok = absl::SimpleAtoi(kv[1], &victim.local_steps) && victim.local_steps >= 1 && victim.local_steps <= 100;
    } else if (ok && kv[0] == "state") {
      ok = victim.trained && (kv[1] == "mid" || kv[1] == "converged");
      victim.converged = kv[1] == "converged";
    } else {
      ok = false;
    }
  }
  // The raw and gradient shares are one step's.
  ok = ok && (victim.local_steps == 1 || victim.share == SharedKind::kPseudoGradient);
  if (!ok) {
    return absl::InvalidArgumentError(
        absl::StrCat("victim '", text,
                     "': expected untrained or trained, optionally +aggregate:K (1 to 64 clients), +share:S "
                     "(raw, gradient or pseudo_gradient), +local-steps:K (1 to 100, the pseudo-gradient's), "
                     "+client-lr:LR (> 0) and, trained, +state:mid or +state:converged, each once"));
  }
  return victim;
}

std::string SweepVictimName(const SweepVictim& victim) {
  std::string name = victim.trained ? "trained" : "untrained";
  if (victim.clients != 1) absl::StrAppend(&name, "+aggregate:", victim.clients);
  if (victim.share != SharedKind::kPseudoGradient) absl::StrAppend(&name, "+share:", SharedKindName(victim.share));
  if (victim.local_steps != 1) absl::StrAppend(&name, "+local-steps:", victim.local_steps);
  if (victim.client_lr > 0) absl::StrAppend(&name, "+client-lr:", absl::StrFormat("%g", victim.client_lr));
  if (victim.converged) absl::StrAppend(&name, "+state:converged");
  return name;
}

absl::StatusOr<AttackSpec> CellAttacker(const SweepConfig& c, const std::string& attack, int64_t iterations) {
  BIOFED_ASSIGN_OR_RETURN(AttackSpec spec, ParseAttackSpec(attack, c.attacker));
  spec.config.iterations = iterations;
  return spec;
}

namespace {

// A regression check in about 2 minutes on 2 cores: the MLP, baseline
// and full biomod, untrained and trained victims, plain IG, one seed.
SweepConfig SmokePreset() {
  SweepConfig c;
  SweepGrid smoke;
  smoke.mechanisms = {"none", "fl,wr,ws"};
  smoke.seeds = {1};
  c.grids = {smoke};
  return c;
}

// About 15 minutes on 2 cores (docs/results.md): the MLP over the whole
// grid, the defenses on the baseline and on full biomod, a WR-aware
// attacker, and one short look at the convolutional models.
SweepConfig QuickPreset() {
  SweepConfig c;
  SweepGrid mlp;
  SweepGrid defended;
  defended.mechanisms = {"none", "fl,wr,ws"};
  defended.defenses = {"noise:1:0.001", "noise:1:0.01", "topk:0.1", "topk:0.01"};
  // A WR-aware attacker, which leaves the largest 10% of each weight
  // tensor's entries (where WR's resets land) out of the matching.
  SweepGrid robust;
  robust.mechanisms = {"none", "wr", "fl,wr,ws"};
  robust.attacks = {"ig+ignore-largest:0.1"};
  SweepGrid conv;
  conv.models = {"alexnet", "resnet20"};
  conv.victims = {"untrained"};
  conv.batch_sizes = {1};
  conv.seeds = {1};
  conv.attack_iterations = 300;
  c.grids = {mlp, defended, robust, conv};
  return c;
}

// The paper's questions at a size 2 cores finish in an evening (not timed
// yet; the dry run's rough guide says 1.2 core-hours, the parts timed
// alone add up to about 2), 5 seeds each: every mechanism subset
// under each share (raw, gradient, update), untrained and trained; the
// WR-aware attackers (ignore-largest, mask:oracle, mask:predicted); the paper's pipeline
// next to ours on the MLP and AlexNet; AlexNet at the attack that
// reconstructs its baseline (lr 0.3, 4000 iterations) and ResNet20's
// baseline at 1000 iterations, which says that no conclusion is drawn there.
SweepConfig PaperCpuPreset() {
  SweepConfig c;
  const std::vector<int64_t> seeds = {1, 2, 3, 4, 5};
  SweepGrid shares;
  shares.victims = {"untrained+share:raw", "untrained+share:gradient", "untrained",
                    "trained+share:raw",   "trained+share:gradient",   "trained"};
  shares.seeds = seeds;
  SweepGrid aware;
  aware.mechanisms = {"none", "wr", "fl,wr,ws"};
  aware.attacks = {"ig+ignore-largest:0.1", "ig+mask:oracle", "ig+mask:predicted"};
  aware.seeds = seeds;
  SweepGrid replica;
  replica.models = {"mlp", "alexnet"};
  replica.mechanisms = {"none", "fl,wr,ws"};
  replica.victims = {"untrained+share:raw"};
  // Only the replica: plain IG on these victims is the shares grid's, at its
  // own iteration count (two counts under one attack name would mix in the
  // report's groups).
  replica.attacks = {"ig+iterate:last+attacker-batchnorm:eval"};
  replica.batch_sizes = {1};
  replica.seeds = seeds;
  replica.attack_iterations = 1000;
  // AlexNet at the recipe that reconstructs its baseline (docs/attacks.md,
  // "Attack strength"), ResNet20 at 1000 iterations: no recipe found, its
  // rows say so.
  SweepGrid alexnet;
  alexnet.models = {"alexnet"};
  alexnet.mechanisms = {"none", "wr", "fl,wr,ws"};
  alexnet.victims = {"untrained"};
  alexnet.attacks = {"ig+attack-lr:0.3"};
  alexnet.batch_sizes = {1};
  alexnet.seeds = seeds;
  alexnet.attack_iterations = 4000;
  SweepGrid resnet = alexnet;
  resnet.models = {"resnet20"};
  resnet.mechanisms = {"none", "fl,wr,ws"};
  resnet.attacks = {"ig"};
  resnet.attack_iterations = 1000;
  c.grids = {shares, aware, replica, alexnet, resnet};
  return c;
}

// The paper's grid on CIFAR-10 (needs the dataset files): MLP, AlexNet,
// ResNet20 and ResNet32, batches of 2, 4 and 8, the authors' 7000
// attack iterations. Days on 2 cores; meant for a big machine.
SweepConfig PaperPreset() {
  SweepConfig c;
  c.dataset = "cifar10";
  c.train_rounds = 2000;
  c.attacker.config.iterations = 7000;
  SweepGrid all;
  all.models = {"mlp", "alexnet", "resnet20", "resnet32"};
  all.batch_sizes = {2, 4, 8};
  all.seeds = {1, 2, 3};
  SweepGrid defended = all;
  defended.mechanisms = {"none", "fl,wr,ws"};
  defended.defenses = {"noise:1:0.001", "noise:1:0.01", "topk:0.1", "topk:0.01"};
  SweepGrid robust = all;
  robust.mechanisms = {"none", "wr", "fl,wr,ws"};
  robust.attacks = {"ig+ignore-largest:0.1"};
  c.grids = {all, defended, robust};
  return c;
}

}  // namespace

namespace {

// The attack `a` of grid `g` applies to all of its victims: mask:oracle
// replays one fresh client's single step, which an aggregate or K > 1 local
// steps do not give; the fedavg attack replays K > 1 local steps of one
// client.
absl::Status CheckCellAttacker(const SweepConfig& c, const SweepGrid& g, const std::string& a) {
  BIOFED_ASSIGN_OR_RETURN(const AttackSpec spec, CellAttacker(c, a, c.attacker.config.iterations));
  const bool oracle = spec.config.mask == UpdateMask::kOracle;
  const bool fedavg = spec.config.kind == AttackKind::kFedAvg;
  for (const std::string& v : g.victims) {
    BIOFED_ASSIGN_OR_RETURN(const SweepVictim victim, ParseSweepVictim(v));
    const auto refuse = [&](const std::string& why) {
      return absl::InvalidArgumentError(absl::StrCat("attack '", a, "' on victim '", v, "': ", why));
    };
    if (oracle && (victim.clients > 1 || victim.local_steps > 1)) {
      return refuse("mask oracle replays one fresh client's WR resets of one step; an aggregate's, or K > 1 "
                    "steps', are not replayable");
    }
    if (fedavg && (victim.local_steps == 1 || victim.clients > 1)) {
      return refuse("the fedavg attack does not apply: it replays one client's K > 1 local steps "
                    "(+local-steps:K)");
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<SweepConfig> SweepPreset(const std::string& name) {
  if (name == "smoke") return SmokePreset();
  if (name == "quick") return QuickPreset();
  if (name == "paper-cpu") return PaperCpuPreset();
  if (name == "paper") return PaperPreset();
  return absl::InvalidArgumentError(absl::StrCat("unknown sweep preset '", name, "' (smoke, quick, paper-cpu or paper)"));
}

namespace {

// The victims of one grid (ValidateSweepConfig).
absl::Status ValidateVictims(const SweepConfig& c, const SweepGrid& g) {
  for (const std::string& v : g.victims) {
    BIOFED_ASSIGN_OR_RETURN(const SweepVictim victim, ParseSweepVictim(v));
    if (victim.client_lr == c.lr) {
      return absl::InvalidArgumentError("victim '" + v +
                                        "': client-lr equals the shared lr; leave it out (one setting, one name)");
    }
    if (victim.clients > 1 && c.attacker.threat.fuzzy_factors_known) {
      return absl::InvalidArgumentError("victim '" + v +
                                        "': the aggregate mixes its clients' FL factors; fl_factors known applies "
                                        "to one client's update");
    }
  }
  return absl::OkStatus();
}

// The defenses of one grid (ValidateSweepConfig).
absl::Status ValidateDefenses(const SweepGrid& g) {
  for (const std::string& d : g.defenses) {
    BIOFED_ASSIGN_OR_RETURN(const Defense defense, ParseDefense(d));
    if (defense.kind != Defense::Kind::kDpSgd) continue;
    for (const std::string& m : g.models) {
      if (HasBatchNorm(ParseArchitecture(m).value_or(Architecture::kMlp))) {
        return absl::InvalidArgumentError("defense '" + d + "' (DP-SGD) needs models without BatchNorm (mlp, " +
                                          "alexnet); this grid has " + m);
      }
    }
  }
  return absl::OkStatus();
}

// One grid's axes (ValidateSweepConfig), unprefixed.
absl::Status ValidateGrid(const SweepConfig& c, const SweepGrid& g) {
  if (g.models.empty() || g.mechanisms.empty() || g.victims.empty() || g.attacks.empty() || g.batch_sizes.empty() ||
      g.seeds.empty() || g.defenses.empty()) {
    return absl::InvalidArgumentError("every axis needs at least one value");
  }
  for (const std::string& m : g.models) BIOFED_RETURN_IF_ERROR(ParseArchitecture(m).status());
  for (const std::string& m : g.mechanisms) {
    BIOFED_ASSIGN_OR_RETURN(const BiomodOptions b, ParseSweepMechanisms(m, c.mechanism_parameters));
    BIOFED_RETURN_IF_ERROR(ValidateBiomod(b));
  }
  BIOFED_RETURN_IF_ERROR(ValidateVictims(c, g));
  for (const std::string& a : g.attacks) BIOFED_RETURN_IF_ERROR(CheckCellAttacker(c, g, a));
  for (int64_t b : g.batch_sizes) {
    if (b < 1) return absl::InvalidArgumentError("batch sizes must be >= 1");
  }
  for (int64_t s : g.seeds) {
    if (s < 0) return absl::InvalidArgumentError("seeds must be >= 0");
  }
  BIOFED_RETURN_IF_ERROR(ValidateDefenses(g));
  if (g.attack_iterations < 0) return absl::InvalidArgumentError("attack_iterations must be >= 0");
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidateSweepConfig(const SweepConfig& c) {
  if (c.train_rounds < 1 || c.train_clients < 1 || c.train_batch < 1 || c.eval_every < 1) {
    return absl::InvalidArgumentError("train_rounds, train_clients, train_batch and eval_every must be >= 1");
  }
  if (c.converge_max_rounds < c.eval_every || c.plateau_evaluations < 1 || !(c.plateau_gain >= 0)) {
    return absl::InvalidArgumentError(
        "converge_max_rounds must be >= eval_every, plateau_evaluations >= 1 and plateau_gain >= 0");
  }
  if (!(c.lr > 0)) return absl::InvalidArgumentError("lr must be positive");
  if (c.device != "cpu" && c.device != "cuda") {
    return absl::InvalidArgumentError(absl::StrCat("device is 'cpu' or 'cuda', not '", c.device, "'"));
  }
  BIOFED_RETURN_IF_ERROR(ValidateAttackSpec(c.attacker));
  if (c.grids.empty()) return absl::InvalidArgumentError("the sweep needs at least one grid");
  for (size_t i = 0; i < c.grids.size(); ++i) {
    if (absl::Status s = ValidateGrid(c, c.grids[i]); !s.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("grid ", i + 1, ": ", s.message()));
    }
  }
  return absl::OkStatus();
}

std::string SweepSharedSettingsJson(const SweepConfig& config) { return SharedJson(config).dump(); }

std::string SweepConfigJson(const SweepConfig& config) {
  Json j = SharedJson(config);
  j["grids"] = Json::array();
  for (SweepGrid g : config.grids) {
    Json gj = Json::object();
    WriteJsonKeys(g, [](SweepGrid& grid, auto&& v) { VisitGridFields(grid, v); }, gj);
    j["grids"].push_back(gj);
  }
  return j.dump(2);
}

absl::StatusOr<SweepConfig> ParseSweepConfig(const std::string& text, const std::string& source, SweepConfig base) {
  BIOFED_ASSIGN_OR_RETURN(Json j, ParseJsonText(text, source));
  BIOFED_RETURN_IF_ERROR(ApplyJsonKeys(j, source, base, [](SweepConfig& c, auto&& v) { VisitSharedFields(c, v); }, {"grids"}));
  if (j.contains("grids")) {
    const Json& grids = j.at("grids");
    if (!grids.is_array()) return absl::InvalidArgumentError(absl::StrCat(source, ": 'grids' must be an array"));
    base.grids.clear();
    for (size_t i = 0; i < grids.size(); ++i) {
      SweepGrid g;
      BIOFED_RETURN_IF_ERROR(ApplyJsonKeys(grids[i], absl::StrCat(source, ": grid ", i + 1), g,
                                       [](SweepGrid& grid, auto&& v) { VisitGridFields(grid, v); }));
      base.grids.push_back(std::move(g));
    }
  }
  return base;
}

}  // namespace biofed
