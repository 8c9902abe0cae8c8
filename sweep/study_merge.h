// `biofed study merge`: joins the studies of a sharded sweep (or of any
// sweeps of one config) into one study, whose report is the report of the
// whole sweep. Studies made under different shared settings are refused,
// naming the keys that differ; so are studies made by different code
// versions unless the caller allows it. Merging is idempotent: a row the
// output already holds is kept, so merging a study twice adds nothing.
#ifndef BIOFED_SWEEP_STUDY_MERGE_H_
#define BIOFED_SWEEP_STUDY_MERGE_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "sweep/sweep_store.h"

namespace biofed {

struct MergeOptions {
  bool allow_other_code_versions = false;
};

struct MergeResult {
  std::vector<std::pair<std::string, MergedStudy>> per_input;  // in the order given
  int64_t cells = 0, trainings = 0;                            // what the output holds now
};

// Merges `inputs` into the study at `out` (created when missing; an
// existing one must have the same settings). INVALID_ARGUMENT for no input
// or `out` among them; FAILED_PRECONDITION saying what differs for studies
// that are not comparable; the errors of ReadStudyFacts for unreadable ones.
absl::StatusOr<MergeResult> MergeStudies(const std::string& out, const std::vector<std::string>& inputs,
                                         const MergeOptions& options);

// "tau: 0.18 vs 0.5" for every key path whose values differ between two
// JSON objects (texts that do not parse compare as one value).
std::vector<std::string> DifferingSettings(const std::string& a_json, const std::string& b_json);

}  // namespace biofed

#endif  // BIOFED_SWEEP_STUDY_MERGE_H_
