// `biofed report`: one self-contained HTML file (no network) from a study
// database: runs, accuracy curves and reconstruction-quality bar charts
// (inline SVG, mean and standard deviation over every attacked update of
// the runs with the same name), and truth-vs-reconstruction images (inline
// PNG). Torch-free; thread-safe.
#ifndef BIOFED_REPORT_HTML_REPORT_H_
#define BIOFED_REPORT_HTML_REPORT_H_

#include <string>

#include "absl/status/statusor.h"

namespace biofed {

// NOT_FOUND when `db_path` does not exist, INVALID_ARGUMENT when it is not a
// biofed study.
absl::StatusOr<std::string> RenderHtmlReport(const std::string& db_path);

}  // namespace biofed

#endif  // BIOFED_REPORT_HTML_REPORT_H_
