// A study database read back through the records' field lists
// (experiment/): a federation study (`biofed simulate` or `audit`: runs, their
// rounds and attacked updates) or a sweep study (settings, invocations,
// cells, training federations). Read-only; thread-safe for distinct paths.
#ifndef BIOFED_REPORT_STUDY_READER_H_
#define BIOFED_REPORT_STUDY_READER_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "experiment/round_row.h"
#include "experiment/scored_attack.h"
#include "experiment/sweep_rows.h"

namespace biofed {

struct StudyRun {
  int64_t id = 0;
  std::string name, biomod, config_json, code_version;
  bool finished = false;
  std::vector<RoundRow> rounds;           // by round
  std::vector<ObservedAttack> attacks;    // by round, then client
};

struct FederationStudy {
  std::vector<StudyRun> runs;  // by id
};

struct SweepStudy {
  std::string settings;
  std::vector<std::pair<std::string, std::string>> invocations;  // (started, code version)
  std::vector<CellRow> cells;
  std::vector<TrainingRow> trainings;  // without their model state
};

// NOT_FOUND for a missing file, INVALID_ARGUMENT for one that is not a
// study of that kind or cannot be read.
absl::StatusOr<bool> IsSweepStudy(const std::string& path);
absl::StatusOr<FederationStudy> ReadFederationStudy(const std::string& path);
absl::StatusOr<SweepStudy> ReadSweepStudy(const std::string& path);

}  // namespace biofed

#endif  // BIOFED_REPORT_STUDY_READER_H_
