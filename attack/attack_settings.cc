#include "attack/attack_settings.h"

#include <cmath>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/compact_settings.h"

namespace biofed {
namespace {

// Settings a scored attack records in columns of their own, so the compact
// name leaves them out.
bool HasOwnColumn(const std::string& key) {
  return key == "attack_iterations" || key == "labels" || key == "fl_factors" || key == "batch_size" ||
         key == "local_hyperparameters";
}

}  // namespace

absl::StatusOr<AttackKind> ParseAttackKind(const std::string& name) {
  if (name == "ig" || name == "inverting-gradients") return AttackKind::kInvertingGradients;
  if (name == "dlg") return AttackKind::kDlg;
  if (name == "analytic") return AttackKind::kAnalytic;
  if (name == "fedavg") return AttackKind::kFedAvg;
  if (name == "imprint") return AttackKind::kImprint;
  return absl::InvalidArgumentError(
      absl::StrCat("unknown attack '", name, "': expected ig, dlg, analytic, fedavg or imprint"));
}

std::string AttackKindName(AttackKind kind) {
  switch (kind) {
    case AttackKind::kInvertingGradients: return "ig";
    case AttackKind::kDlg: return "dlg";
    case AttackKind::kAnalytic: return "analytic";
    case AttackKind::kFedAvg: return "fedavg";
    case AttackKind::kImprint: return "imprint";
  }
  return "unknown";
}

std::string UpdateMaskName(UpdateMask mask) {
  switch (mask) {
    case UpdateMask::kNone: return "none";
    case UpdateMask::kOracle: return "oracle";
    case UpdateMask::kPredicted: return "predicted";
  }
  return "unknown";
}

absl::StatusOr<UpdateMask> ParseUpdateMask(const std::string& name) {
  if (name == "none") return UpdateMask::kNone;
  if (name == "oracle") return UpdateMask::kOracle;
  if (name == "predicted") return UpdateMask::kPredicted;
  return absl::InvalidArgumentError(absl::StrCat("unknown mask '", name, "' (none, oracle or predicted)"));
}

const std::map<std::string, std::string>& AttackSettingHelp() {
  static const auto* help = new std::map<std::string, std::string>{
      {"attack", "ig (Inverting Gradients), dlg, analytic, fedavg, or imprint (a malicious server: the victim "
                 "is sent an imprint block, attack/imprint.h)"},
      {"attack_iterations", "attack optimisation steps (DLG: L-BFGS steps)"},
      {"attack_lr", "IG/FedAvg Adam learning rate"},
      {"tv_weight", "total-variation weight"},
      {"restarts", "random restarts, best by objective"},
      {"ignore_largest", "leave this fraction of each weight tensor's largest update entries out of the matching "
                         "(a WR-aware attacker: resets are large and sparse); 0 = off"},
      {"imprint_bins", "imprint: the bins of the imprint block the malicious server sends the victim (2 to 65536)"},
      {"mask", "none, or oracle: leave out of the matching exactly the weights the client's WR reset (replayed "
               "from the audit; a fresh client's single step only): the most knowing the resets can give; or "
               "predicted: the positions predicted from the global weights and the update (no audit data)"},
      {"mask_d_re", "mask predicted: the d_re the attacker takes the protocol to use (0 = the victim's, where the "
                    "command builds the victim)"},
      {"mask_wr_variant", "mask predicted: the WR law the attacker takes the protocol to use, reference or paper "
                          "(with mask_d_re 0, the victim's)"},
      {"iterate", "IG/FedAvg return the best iterate by objective, or the last (the paper's pipeline)"},
      {"attacker_batchnorm", "the attacker's BatchNorm mode: client (the victim's, from the record) or eval (the "
                             "paper's pipeline)"},
      {"labels", "the attacker's labels: known (given the true labels) or inferred"},
      {"fl_factors", "unknown, or known (an adaptive attacker told the client's FL factors)"},
      {"batch_size", "known, or estimated (from the update's rank; needs labels inferred)"},
      {"local_hyperparameters", "known (the FedAvg attack replays the K local steps) or unknown (one step)"},
  };
  return *help;
}

AttackSpec WithProtocolWr(AttackSpec spec, double protocol_d_re, bool paper_law) {
  if (spec.config.mask == UpdateMask::kPredicted && spec.config.mask_d_re == 0) {
    spec.config.mask_d_re = protocol_d_re;
    spec.config.mask_paper_law = paper_law;
  }
  return spec;
}

absl::Status ValidateAttackSpec(const AttackSpec& s) {
  const AttackConfig& c = s.config;
  if (c.iterations < 1 || c.restarts < 1 || !(c.lr > 0) || !(c.tv_weight >= 0)) {
    return absl::InvalidArgumentError("attack iterations and restarts must be >= 1, lr > 0, TV >= 0");
  }
  if (!(c.ignore_largest_fraction >= 0 && c.ignore_largest_fraction < 1)) {
    return absl::InvalidArgumentError("the ignored fraction of the largest update entries must be in [0, 1)");
  }
  if (c.last_iterate && IsClosedForm(c.kind)) {
    return absl::InvalidArgumentError("the closed-form inversions (analytic, imprint) have no iterates: iterate last "
                                      "applies to ig and fedavg (dlg always returns its last)");
  }
  if (c.mask != UpdateMask::kNone && (IsClosedForm(c.kind) || c.ignore_largest_fraction > 0)) {
    return absl::InvalidArgumentError(
        "a mask (oracle, predicted) applies to ig, dlg and fedavg, without ignore_largest (one mask at a time)");
  }
  if (!(c.mask_d_re >= 0) || !std::isfinite(c.mask_d_re)) {
    return absl::InvalidArgumentError("mask_d_re must be >= 0 (0: the victim's own)");
  }
  if ((c.mask_d_re > 0 || c.mask_paper_law) && c.mask != UpdateMask::kPredicted) {
    return absl::InvalidArgumentError("mask_d_re and mask_wr_variant apply to mask predicted only");
  }
  if (c.ignore_largest_fraction > 0 && IsClosedForm(c.kind)) {
    return absl::InvalidArgumentError(
        "the closed-form inversions (analytic, imprint) need the whole first-layer update; they cannot ignore entries");
  }
  // 65536: models/model_spec.h's kMaxImprintBins (this library is torch-free, models is not).
  if (c.kind == AttackKind::kImprint && !(c.imprint_bins >= 2 && c.imprint_bins <= 65536)) {
    return absl::InvalidArgumentError("the imprint block needs 2 to 65536 bins");
  }
  if (!s.threat.batch_size_known && s.threat.labels_known) {
    return absl::InvalidArgumentError(
        "known labels give the batch size away: an attacker without the batch size infers the labels");
  }
  return absl::OkStatus();
}

std::string AttackSpecName(const AttackSpec& spec, const AttackSpec& base) {
  return AttackKindName(spec.config.kind) +
         CompactDifferences(
             spec, base, [](const AttackSpec& s, auto&& v) { VisitFields(s, v); },
             [](const std::string& key) { return key == "attack" || HasOwnColumn(key); });
}

absl::StatusOr<AttackSpec> ParseAttackSpec(const std::string& text, const AttackSpec& base) {
  const std::vector<std::string> parts = absl::StrSplit(text, '+');
  AttackSpec spec = base;
  auto kind = ParseAttackKind(parts[0]);
  if (!kind.ok()) return absl::InvalidArgumentError(absl::StrCat("attack '", text, "': ", kind.status().message()));
  spec.config.kind = *kind;
  for (size_t p = 1; p < parts.size(); ++p) {
    const std::vector<std::string> key_value = absl::StrSplit(parts[p], absl::MaxSplits(':', 1));
    absl::Status status = absl::NotFoundError("");
    if (key_value.size() == 2) {
      status = SetCompactField(
          spec, [](AttackSpec& target, auto&& v) { VisitFields(target, v); }, key_value[0], key_value[1],
          [](const std::string& name) { return name == "attack"; });
    }
    if (absl::IsNotFound(status)) {
      return absl::InvalidArgumentError(
          absl::StrCat("attack '", text, "': '", parts[p], "' is not SETTING:VALUE for a known setting"));
    }
    if (!status.ok()) return absl::InvalidArgumentError(absl::StrCat("attack '", text, "': ", status.message()));
  }
  if (absl::Status s = ValidateAttackSpec(spec); !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("attack '", text, "': ", s.message()));
  }
  return spec;
}

}  // namespace biofed
