// Which biomod mechanisms are on and their parameters. Plain data; parsing
// from the `--biomod fl,wr,ws` flag syntax. Thread-safe.
#ifndef BIOFED_CLIENT_BIOMOD_OPTIONS_H_
#define BIOFED_CLIENT_BIOMOD_OPTIONS_H_

#include <cstdint>
#include <map>
#include <string>
#include <type_traits>

#include "absl/status/statusor.h"
#include "common/record_fields.h"

namespace biofed {

// How weight rejuvenation decides which weights to reset.
enum class RejuvenationVariant {
  // The authors' code: reset where a half-normal draw exceeds |w|, i.e. with
  // probability erfc(|w| / (sigma sqrt 2)). The default.
  kReference,
  // The paper's eq. 3 on the magnitude: reset with probability 1 - Phi(|w| / sigma).
  kPaper,
};

std::string RejuvenationVariantName(RejuvenationVariant variant);
absl::StatusOr<RejuvenationVariant> ParseRejuvenationVariant(const std::string& name);

// When a client runs WR: at its steps 1, 1 + N, 1 + 2N, ... counted over the
// client's life (a federated client whose lr changes between rounds starts
// counting again) (N = 1: every step, the authors' per-step use; a larger N
// the package's periodic use, "every 10 epochs"), or once per round, before
// its first step (the round's reset weights are trained and sent) or after
// the update is taken (the server never sees the resets; the next round
// starts from the global model, so for a federation this is WR off).
struct RejuvenationSchedule {
  enum class Kind { kSteps, kRoundStart, kRoundEnd };
  Kind kind = Kind::kSteps;
  int64_t every = 1;  // kSteps only

  // Whether WR runs inside the step with this 0-based life-long index.
  bool AtStep(int64_t step) const { return kind == Kind::kSteps && step % every == 0; }
  bool operator==(const RejuvenationSchedule& o) const { return kind == o.kind && every == o.every; }
  bool operator!=(const RejuvenationSchedule& o) const { return !(*this == o); }
};

// "1", "10", "round-start", "round-end".
std::string RejuvenationScheduleName(RejuvenationSchedule schedule);
absl::StatusOr<RejuvenationSchedule> ParseRejuvenationSchedule(const std::string& text);

struct BiomodOptions {
  bool fuzzy_learning_rates = false;  // FL
  bool rejuvenation = false;          // WR
  bool weight_splitting = false;      // WS
  double tau = 0.18;                  // FL factors ~ U(1 - tau/2, 1 + tau/2)
  double d_re = 14.0;                 // WR: sigma = max|W| / d_re
  int64_t gamma = 2;                  // WS division factor
  RejuvenationVariant variant = RejuvenationVariant::kReference;
  RejuvenationSchedule wr_every;      // WR's schedule: every step by default

  bool any() const;
  // The WS factor to build a model with (0 when WS is off).
  int64_t split_gamma() const { return weight_splitting ? gamma : 0; }
};

// The mechanisms by the short names of the flag syntax, in the order names
// list them ("fl+wr+ws"): the one list parsing and naming derive from.
template <typename Options, typename Visitor,
          std::enable_if_t<std::is_same_v<std::decay_t<Options>, BiomodOptions>, int> = 0>
void VisitMechanisms(Options& o, Visitor&& v) {
  v("fl", o.fuzzy_learning_rates);
  v("wr", o.rejuvenation);
  v("ws", o.weight_splitting);
}

// The mechanisms' parameters, named as in config files (a flag is the name
// with '-' for '_'): the one list configs, flags and records derive from.
// Which mechanisms are on is the mechanism set's name (BiomodName).
template <typename Options, typename Visitor,
          std::enable_if_t<std::is_same_v<std::decay_t<Options>, BiomodOptions>, int> = 0>
void VisitParameters(Options& o, Visitor&& v) {
  v("tau", o.tau);
  v("d_re", o.d_re);
  v("gamma", o.gamma);
  v("wr_variant", o.variant, EnumText<RejuvenationVariant>{RejuvenationVariantName, ParseRejuvenationVariant});
  v("wr_every", o.wr_every, EnumText<RejuvenationSchedule>{RejuvenationScheduleName, ParseRejuvenationSchedule});
}

// One line of help per parameter, by name (for the derived flags).
inline const std::map<std::string, std::string>& BiomodParameterHelp() {
  static const auto* help = new std::map<std::string, std::string>{
      {"tau", "FL spread: factors ~ U(1 - tau/2, 1 + tau/2)"},
      {"d_re", "WR distance: sigma = max|W| / d_re"},
      {"gamma", "WS division factor"},
      {"wr_variant", "WR's reset law: reference (the authors' code) or paper (eq. 3)"},
      {"wr_every", "WR's schedule: N (the client's steps 1, 1 + N, ...; 1 = every step), round-start (once "
                   "before a round's steps) or round-end (once after its update is taken)"},
  };
  return *help;
}

// Parses "none" or a list of mechanism names ("fl", "wr", "ws") joined by
// '+' or ',' (also "all"). Keeps the parameters of `base`.
absl::StatusOr<BiomodOptions> ParseBiomod(const std::string& list, BiomodOptions base = {});
// Validates tau in [0, 2), d_re > 0, gamma >= 2 when WS is on, wr_every >= 1.
absl::Status ValidateBiomod(const BiomodOptions& options);

// "none", or e.g. "fl+wr+ws".
std::string BiomodName(const BiomodOptions& options);

}  // namespace biofed

#endif  // BIOFED_CLIENT_BIOMOD_OPTIONS_H_
