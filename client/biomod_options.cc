#include "client/biomod_options.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace biofed {

absl::StatusOr<BiomodOptions> ParseBiomod(const std::string& list, BiomodOptions base) {
  base.fuzzy_learning_rates = base.rejuvenation = base.weight_splitting = false;
  if (list == "none" || list.empty()) return base;
  for (absl::string_view item : absl::StrSplit(list, absl::ByAnyChar(",+"))) {
    if (item == "fl") {
      base.fuzzy_learning_rates = true;
    } else if (item == "wr") {
      base.rejuvenation = true;
    } else if (item == "ws") {
      base.weight_splitting = true;
    } else if (item == "all") {
      base.fuzzy_learning_rates = base.rejuvenation = base.weight_splitting = true;
    } else {
      return absl::InvalidArgumentError(absl::StrCat(
          "bad --biomod item '", item, "': expected none, or a comma list of fl, wr, ws"));
    }
  }
  return base;
}

const std::map<std::string, std::string>& BiomodParameterHelp() {
  static const auto* help = new std::map<std::string, std::string>{
      {"tau", "FL spread: factors ~ U(1 - tau/2, 1 + tau/2)"},
      {"d_re", "WR distance: sigma = max|W| / d_re"},
      {"gamma", "WS division factor"},
      {"wr_variant", "WR's reset law: reference (the authors' code) or paper (eq. 3)"},
  };
  return *help;
}

absl::StatusOr<RejuvenationVariant> ParseRejuvenationVariant(const std::string& name) {
  if (name == "reference") return RejuvenationVariant::kReference;
  if (name == "paper") return RejuvenationVariant::kPaper;
  return absl::InvalidArgumentError(
      absl::StrCat("bad WR variant '", name, "': expected reference or paper"));
}

absl::Status ValidateBiomod(const BiomodOptions& options) {
  if (!(options.tau >= 0 && options.tau < 2)) {
    return absl::InvalidArgumentError(absl::StrCat("tau must be in [0, 2), got ", options.tau));
  }
  if (!(options.d_re > 0)) {
    return absl::InvalidArgumentError(absl::StrCat("d_re must be > 0, got ", options.d_re));
  }
  if (options.weight_splitting && options.gamma < 2) {
    return absl::InvalidArgumentError(
        absl::StrCat("weight splitting needs Gamma >= 2, got ", options.gamma));
  }
  return absl::OkStatus();
}

std::string BiomodName(const BiomodOptions& options) {
  std::vector<std::string> parts;
  if (options.fuzzy_learning_rates) parts.push_back("fl");
  if (options.rejuvenation) parts.push_back("wr");
  if (options.weight_splitting) parts.push_back("ws");
  return parts.empty() ? "none" : absl::StrJoin(parts, "+");
}

std::string RejuvenationVariantName(RejuvenationVariant variant) {
  return variant == RejuvenationVariant::kReference ? "reference" : "paper";
}

}  // namespace biofed
