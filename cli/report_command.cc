// `biofed report STUDY.db`: the study as one self-contained HTML file.
#include <cstdio>
#include <filesystem>

#include "cli/cli_util.h"
#include "cli/commands.h"
#include "common/files.h"
#include "report/html_report.h"

namespace biofed {

int RunReportCommand(const std::vector<std::string>& args) {
  std::string out;
  FlagSet flags("report",
                "Writes one self-contained HTML file (no network) from a study database made by\n"
                "`biofed simulate`: runs, accuracy curves, reconstruction-quality charts (mean and\n"
                "standard deviation, baseline vs biomod) and truth-vs-reconstruction images.\n"
                "usage: biofed report [--out FILE] STUDY.db");
  flags.AddString("out", &out, "output file (default: report.html next to the study)");
  if (auto exit = ParseOrExit(flags, args)) return *exit;
  if (flags.positional().size() != 1) {
    return Fail("report", absl::InvalidArgumentError("expected exactly one study database (biofed report STUDY.db)"));
  }
  const std::string db = flags.positional()[0];
  if (out.empty()) out = (std::filesystem::path(db).parent_path() / "report.html").string();
  auto html = RenderHtmlReport(db);
  if (!html.ok()) return Fail("report", html.status());
  if (auto s = WriteFileAtomically(out, *html); !s.ok()) return Fail("report", s);
  std::printf("report: %s\n", out.c_str());
  return 0;
}

}  // namespace biofed
