// What a sweep study holds, read without changing it: the settings it was
// made under, its invocations, the code versions of its rows and the keys of
// its finished cells and trainings. For `biofed study info` and for the
// checks before a merge. Thread-compatible.
#ifndef BIOFED_SWEEP_STUDY_FACTS_H_
#define BIOFED_SWEEP_STUDY_FACTS_H_

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "experiment/sweep_rows.h"

namespace biofed {

struct StudyFacts {
  std::string path;
  std::string shared_settings;             // SweepSharedSettingsJson of its config
  std::vector<InvocationRow> invocations;  // oldest first
  std::map<std::string, int64_t> rows_by_code_version;  // cells, trainings and invocations
  std::set<std::string> cells, trainings;               // keys of the finished ones
};

// NOT_FOUND when there is no file; INVALID_ARGUMENT when it is not a
// biofed sweep study.
absl::StatusOr<StudyFacts> ReadStudyFacts(const std::string& path);

}  // namespace biofed

#endif  // BIOFED_SWEEP_STUDY_FACTS_H_
