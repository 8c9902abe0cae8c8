// The report of a `biofed sweep` study: reconstruction quality per model
// and victim state, baseline against every mechanism subset (SVG bars, mean
// and standard deviation over seeds and batch sizes), privacy against
// accuracy for every mechanism subset and defense, accuracy curves of the
// training federations, the per-group table and truth-vs-reconstruction
// images. Torch-free; thread-safe.
#ifndef BIOFED_REPORT_SWEEP_REPORT_H_
#define BIOFED_REPORT_SWEEP_REPORT_H_

#include <string>

#include "absl/status/statusor.h"

namespace biofed {

// One self-contained HTML page. INVALID_ARGUMENT when `db_path` is not a
// sweep study.
absl::StatusOr<std::string> RenderSweepReport(const std::string& db_path);

// The per-group table as fixed-width text (what `biofed sweep` prints).
absl::StatusOr<std::string> SweepSummaryText(const std::string& db_path);

}  // namespace biofed

#endif  // BIOFED_REPORT_SWEEP_REPORT_H_
