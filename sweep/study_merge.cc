#include "sweep/study_merge.h"

#include <filesystem>
#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/status_macros.h"
#include "sweep/study_facts.h"

namespace biofed {
namespace {

using Json = nlohmann::json;

void CollectDifferences(const Json& a, const Json& b, const std::string& path, std::vector<std::string>* out) {
  if (a.is_object() && b.is_object()) {
    std::set<std::string> keys;
    for (const auto& item : a.items()) keys.insert(item.key());
    for (const auto& item : b.items()) keys.insert(item.key());
    for (const std::string& key : keys) {
      const std::string child = path.empty() ? key : absl::StrCat(path, ".", key);
      CollectDifferences(a.contains(key) ? a.at(key) : Json(), b.contains(key) ? b.at(key) : Json(), child, out);
    }
    return;
  }
  if (a != b) {
    out->push_back(absl::StrCat(path.empty() ? "settings" : path, ": ", a.is_null() ? "(absent)" : a.dump(), " vs ",
                                b.is_null() ? "(absent)" : b.dump()));
  }
}

bool SameFile(const std::string& a, const std::string& b) {
  std::error_code error;
  return std::filesystem::exists(a, error) && std::filesystem::exists(b, error) &&
         std::filesystem::equivalent(a, b, error);
}

absl::Status CheckSettings(const StudyFacts& first, const StudyFacts& other) {
  if (other.shared_settings == first.shared_settings) return absl::OkStatus();
  return absl::FailedPreconditionError(absl::StrCat(
      other.path, " was made under other settings than ", first.path, ", so their cells are not comparable: ",
      absl::StrJoin(DifferingSettings(first.shared_settings, other.shared_settings), "; ")));
}

absl::Status CheckCodeVersions(const std::vector<StudyFacts>& studies) {
  std::set<std::string> versions;
  for (const StudyFacts& s : studies) {
    for (const auto& [version, rows] : s.rows_by_code_version) versions.insert(version);
  }
  if (versions.size() <= 1) return absl::OkStatus();
  std::vector<std::string> lines;
  for (const StudyFacts& s : studies) {
    std::vector<std::string> parts;
    for (const auto& [version, rows] : s.rows_by_code_version) parts.push_back(absl::StrCat(version, " (", rows, " rows)"));
    lines.push_back(absl::StrCat(s.path, ": ", absl::StrJoin(parts, ", ")));
  }
  return absl::FailedPreconditionError(
      absl::StrCat("the studies were made by different code versions, whose numbers need not agree:\n  ",
                   absl::StrJoin(lines, "\n  "), "\nmerge them anyway with --allow-mixed-versions"));
}

}  // namespace

std::vector<std::string> DifferingSettings(const std::string& a_json, const std::string& b_json) {
  const Json a = Json::parse(a_json, nullptr, false);
  const Json b = Json::parse(b_json, nullptr, false);
  std::vector<std::string> out;
  if (a.is_discarded() || b.is_discarded()) {
    if (a_json != b_json) out.push_back(absl::StrCat("settings: ", a_json, " vs ", b_json));
    return out;
  }
  CollectDifferences(a, b, "", &out);
  return out;
}

absl::StatusOr<MergeResult> MergeStudies(const std::string& out, const std::vector<std::string>& inputs,
                                         const MergeOptions& options) {
  if (inputs.empty()) return absl::InvalidArgumentError("no study to merge");
  std::vector<StudyFacts> studies;
  for (const std::string& path : inputs) {
    if (path == out || SameFile(path, out)) {
      return absl::InvalidArgumentError(absl::StrCat(path, " is the output as well as an input"));
    }
    BIOFED_ASSIGN_OR_RETURN(StudyFacts facts, ReadStudyFacts(path));
    studies.push_back(std::move(facts));
  }
  if (std::filesystem::exists(out)) {
    BIOFED_ASSIGN_OR_RETURN(StudyFacts existing, ReadStudyFacts(out));
    studies.push_back(std::move(existing));
  }
  for (const StudyFacts& s : studies) BIOFED_RETURN_IF_ERROR(CheckSettings(studies.front(), s));
  if (!options.allow_other_code_versions) BIOFED_RETURN_IF_ERROR(CheckCodeVersions(studies));
  BIOFED_ASSIGN_OR_RETURN(std::unique_ptr<SweepStore> store, SweepStore::Open(out, studies.front().shared_settings));
  MergeResult result;
  for (const std::string& path : inputs) {
    BIOFED_ASSIGN_OR_RETURN(MergedStudy merged, store->CopyRowsFrom(path));
    result.per_input.emplace_back(path, merged);
  }
  BIOFED_ASSIGN_OR_RETURN(std::set<std::string> cells, store->FinishedCells());
  BIOFED_ASSIGN_OR_RETURN(std::set<std::string> trainings, store->FinishedTrainings());
  result.cells = static_cast<int64_t>(cells.size());
  result.trainings = static_cast<int64_t>(trainings.size());
  return result;
}

}  // namespace biofed
