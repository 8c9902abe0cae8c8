#include "sweep/sweep_mechanisms.h"

#include <set>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "common/compact_settings.h"
#include "common/status_macros.h"

namespace biofed {
namespace {

// Whether the mechanism a parameter belongs to is on.
bool OwnerEnabled(const BiomodOptions& o, const std::string& parameter) {
  if (parameter == "tau") return o.fuzzy_learning_rates;
  if (parameter == "gamma") return o.weight_splitting;
  return o.rejuvenation;  // d_re, wr_variant, wr_every
}

const char* OwnerName(const std::string& parameter) {
  if (parameter == "tau") return "fl";
  if (parameter == "gamma") return "ws";
  return "wr";
}

auto VisitParametersOf = [](auto& o, auto&& v) { VisitParameters(o, v); };
bool NoSkip(const std::string&) { return false; }

}  // namespace

absl::StatusOr<BiomodOptions> ParseSweepMechanisms(const std::string& text, const BiomodOptions& shared) {
  auto bad = [&text](const std::string& why) {
    return absl::InvalidArgumentError(absl::StrCat("mechanisms '", text, "': ", why));
  };
  std::vector<std::string> subset;
  std::vector<std::pair<std::string, std::string>> parameters;
  std::set<std::string> seen;
  const std::vector<std::string> items = absl::StrSplit(text, absl::ByAnyChar(",+"));
  for (const std::string& item : items) {
    const std::vector<std::string> key_value = absl::StrSplit(item, absl::MaxSplits(':', 1));
    if (key_value.size() == 1) {
      subset.push_back(item);
    } else if (!seen.insert(key_value[0]).second) {
      return bad(absl::StrCat("'", key_value[0], "' given twice"));
    } else {
      parameters.emplace_back(key_value[0], key_value[1]);
    }
  }
  absl::StatusOr<BiomodOptions> options = ParseBiomod(absl::StrJoin(subset, "+"), shared);
  if (!options.ok()) return bad(std::string(options.status().message()));
  for (const auto& [key, value] : parameters) {
    const absl::Status status = SetCompactField(*options, VisitParametersOf, key, value, NoSkip);
    if (absl::IsNotFound(status)) {
      return bad(absl::StrCat("'", key, ":", value, "' is not a mechanism or PARAMETER:VALUE (tau, d-re, gamma, "
                              "wr-variant, wr-every)"));
    }
    if (!status.ok()) return bad(std::string(status.message()));
  }
  // The name must say what runs: a value its shortest text would change (more than 6 significant digits) is refused.
  BiomodOptions reread = *options;
  for (const auto& [key, value] : parameters) {
    std::string shortest;
    VisitParameters(*options, [&](const char* name, const auto& field, const auto&... codec) {
      if (CompactKey(name) == key) shortest = CompactText(field, codec...);
    });
    BIOFED_RETURN_IF_ERROR(SetCompactField(reread, VisitParametersOf, key, shortest, NoSkip));
  }
  if (reread.tau != options->tau || reread.d_re != options->d_re) {
    return bad("a parameter has more than 6 significant digits; the cell's name would not say the value it runs");
  }
  for (const auto& [key, value] : parameters) {
    const std::string name = absl::StrReplaceAll(key, {{"-", "_"}});
    if (!OwnerEnabled(*options, name)) {
      return bad(absl::StrCat("'", key, "' is a parameter of ", OwnerName(name), ", which this subset does not run"));
    }
  }
  return options;
}

std::string SweepMechanismsName(const BiomodOptions& mechanisms, const BiomodOptions& shared) {
  return BiomodName(mechanisms) + CompactDifferences(mechanisms, shared, VisitParametersOf, NoSkip);
}

}  // namespace biofed
