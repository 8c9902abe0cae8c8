#include "sweep/sweep_mechanisms.h"

#include <set>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "common/compact_settings.h"

namespace biofed {
namespace {

// Whether the mechanism a parameter belongs to is on.
bool OwnerEnabled(const BiomodOptions& o, const std::string& parameter) {
  if (parameter == "tau") return o.fuzzy_learning_rates;
  if (parameter == "gamma") return o.weight_splitting;
  return o.rejuvenation;  // d_re, wr_variant
}

const char* OwnerName(const std::string& parameter) {
  if (parameter == "tau") return "fl";
  if (parameter == "gamma") return "ws";
  return "wr";
}

auto VisitParametersOf = [](BiomodOptions& o, auto&& v) { VisitParameters(o, v); };

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
    const absl::Status status = SetCompactField(*options, VisitParametersOf, key, value,
                                                [](const std::string&) { return false; });
    if (absl::IsNotFound(status)) {
      return bad(absl::StrCat("'", key, ":", value, "' is not a mechanism or PARAMETER:VALUE (tau, d-re, gamma, "
                              "wr-variant)"));
    }
    if (!status.ok()) return bad(std::string(status.message()));
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
  BiomodOptions own = mechanisms, base = shared;
  std::vector<std::string> base_text;
  VisitParameters(base, [&](const char*, const auto& field, const auto&... codec) {
    base_text.push_back(CompactText(field, codec...));
  });
  std::string name = BiomodName(mechanisms);
  size_t index = 0;
  VisitParameters(own, [&](const char* key, const auto& field, const auto&... codec) {
    const std::string text = CompactText(field, codec...);
    if (text != base_text[index++]) absl::StrAppend(&name, "+", CompactKey(key), ":", text);
  });
  return name;
}

}  // namespace biofed
