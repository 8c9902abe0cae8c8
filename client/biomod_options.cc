#include "client/biomod_options.h"

#include <cmath>

#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace biofed {

namespace {

void SetAll(BiomodOptions& options, bool on) {
  VisitMechanisms(options, [on](const char*, bool& enabled) { enabled = on; });
}

}  // namespace

bool BiomodOptions::any() const {
  bool any = false;
  VisitMechanisms(*this, [&any](const char*, bool enabled) { any = any || enabled; });
  return any;
}

absl::StatusOr<BiomodOptions> ParseBiomod(const std::string& list, BiomodOptions base) {
  SetAll(base, false);
  if (list == "none" || list.empty()) return base;
  std::vector<std::string> names;
  VisitMechanisms(base, [&names](const char* name, bool) { names.push_back(name); });
  for (absl::string_view item : absl::StrSplit(list, absl::ByAnyChar(",+"))) {
    if (item == "all") {
      SetAll(base, true);
      continue;
    }
    bool known = false;
    VisitMechanisms(base, [&](const char* name, bool& enabled) {
      if (item == name) enabled = known = true;
    });
    if (!known) {
      return absl::InvalidArgumentError(absl::StrCat("bad --biomod item '", item, "': expected none, all, or a list of ",
                                                     absl::StrJoin(names, ", "), " joined by + or ,"));
    }
  }
  return base;
}

absl::StatusOr<RejuvenationVariant> ParseRejuvenationVariant(const std::string& name) {
  if (name == "reference") return RejuvenationVariant::kReference;
  if (name == "paper") return RejuvenationVariant::kPaper;
  return absl::InvalidArgumentError(
      absl::StrCat("bad WR variant '", name, "': expected reference or paper"));
}

std::string RejuvenationScheduleName(RejuvenationSchedule schedule) {
  switch (schedule.kind) {
    case RejuvenationSchedule::Kind::kSteps: return std::to_string(schedule.every);
    case RejuvenationSchedule::Kind::kRoundStart: return "round-start";
    case RejuvenationSchedule::Kind::kRoundEnd: return "round-end";
  }
  return "unknown";
}

absl::StatusOr<RejuvenationSchedule> ParseRejuvenationSchedule(const std::string& text) {
  RejuvenationSchedule schedule;
  if (text == "round-start") {
    schedule.kind = RejuvenationSchedule::Kind::kRoundStart;
  } else if (text == "round-end") {
    schedule.kind = RejuvenationSchedule::Kind::kRoundEnd;
  } else if (!absl::SimpleAtoi(text, &schedule.every) || schedule.every < 1 ||
             std::to_string(schedule.every) != text) {
    return absl::InvalidArgumentError(absl::StrCat(
        "bad WR schedule '", text, "': expected a step count N >= 1, round-start or round-end"));
  }
  return schedule;
}

absl::Status ValidateBiomod(const BiomodOptions& options) {
  if (!(options.tau >= 0 && options.tau < 2)) {
    return absl::InvalidArgumentError(absl::StrCat("tau must be in [0, 2), got ", options.tau));
  }
  if (!(options.d_re > 0 && std::isfinite(options.d_re))) {
    return absl::InvalidArgumentError(absl::StrCat("d_re must be finite and > 0, got ", options.d_re));
  }
  if (options.wr_every.every < 1) {
    return absl::InvalidArgumentError(absl::StrCat("WR's step interval must be >= 1, got ", options.wr_every.every));
  }
  if (options.weight_splitting && options.gamma < 2) {
    return absl::InvalidArgumentError(
        absl::StrCat("weight splitting needs Gamma >= 2, got ", options.gamma));
  }
  return absl::OkStatus();
}

std::string BiomodName(const BiomodOptions& options) {
  std::vector<std::string> parts;
  VisitMechanisms(options, [&parts](const char* name, bool enabled) {
    if (enabled) parts.push_back(name);
  });
  return parts.empty() ? "none" : absl::StrJoin(parts, "+");
}

std::string RejuvenationVariantName(RejuvenationVariant variant) {
  return variant == RejuvenationVariant::kReference ? "reference" : "paper";
}

}  // namespace biofed
