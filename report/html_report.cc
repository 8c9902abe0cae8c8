#include "report/html_report.h"

#include <sqlite3.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "report/html_parts.h"
#include "report/sweep_report.h"

namespace biofed {
namespace {

struct Run {
  int64_t id = 0;
  std::string name, biomod, config, version;
  bool finished = false;
  std::vector<std::pair<int64_t, double>> accuracy;  // (round, test accuracy)
};

struct Attack {
  int64_t run_id = 0, round = 0, iterations = 0, batch = 0;
  std::string client, attack, labels, png;
  bool fl_known = false;
  double mse = 0, psnr = 0, ssim = 0, rel = 0, label_accuracy = 0;
};

// Test accuracy per round, one line per run.
std::string AccuracyChart(const std::vector<Run>& runs) {
  std::vector<Series> series;
  for (const Run& r : runs) {
    Series s{absl::StrCat(r.name, " (run ", r.id, ")"), {}};
    for (const auto& [round, acc] : r.accuracy) s.points.push_back({static_cast<double>(round), acc});
    series.push_back(std::move(s));
  }
  return XyChart("accuracy-chart", "test accuracy per round", "round", "test accuracy", series, true, 1.0);
}

}  // namespace

absl::StatusOr<std::string> RenderHtmlReport(const std::string& db_path) {
  if (!std::filesystem::exists(db_path)) return absl::NotFoundError(absl::StrCat("no study at ", db_path));
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    sqlite3_close(db);
    return absl::InvalidArgumentError(absl::StrCat("cannot open ", db_path));
  }
  if (HasTable(db, "sweep_cells")) {
    sqlite3_close(db);
    return RenderSweepReport(db_path);
  }
  std::vector<Run> runs;
  std::vector<Attack> attacks;
  absl::Status status = QueryRows(db, "SELECT id, name, biomod, config_json, code_version, finished FROM runs ORDER BY id",
                              [&](sqlite3_stmt* s) {
                                runs.push_back({sqlite3_column_int64(s, 0), ColumnText(s, 1), ColumnText(s, 2), ColumnText(s, 3),
                                                ColumnText(s, 4), sqlite3_column_int64(s, 5) != 0, {}});
                              });
  if (status.ok()) {
    status = QueryRows(db, "SELECT run_id, round, test_accuracy FROM rounds ORDER BY run_id, round", [&](sqlite3_stmt* s) {
      for (Run& r : runs) {
        if (r.id == sqlite3_column_int64(s, 0)) r.accuracy.push_back({sqlite3_column_int64(s, 1), sqlite3_column_double(s, 2)});
      }
    });
  }
  if (status.ok()) {
    status = QueryRows(db,
                   "SELECT run_id, round, client_id, attack, iterations, labels, fl_factors_known, batch_size, mse, "
                   "psnr, ssim, relative_error_percent, label_accuracy, png FROM attacks ORDER BY run_id, round, client_id",
                   [&](sqlite3_stmt* s) {
                     Attack a;
                     a.run_id = sqlite3_column_int64(s, 0);
                     a.round = sqlite3_column_int64(s, 1);
                     a.client = ColumnText(s, 2);
                     a.attack = ColumnText(s, 3);
                     a.iterations = sqlite3_column_int64(s, 4);
                     a.labels = ColumnText(s, 5);
                     a.fl_known = sqlite3_column_int64(s, 6) != 0;
                     a.batch = sqlite3_column_int64(s, 7);
                     a.mse = sqlite3_column_double(s, 8);
                     a.psnr = sqlite3_column_double(s, 9);
                     a.ssim = sqlite3_column_double(s, 10);
                     a.rel = sqlite3_column_double(s, 11);
                     a.label_accuracy = sqlite3_column_double(s, 12);
                     a.png = ColumnBlob(s, 13);
                     attacks.push_back(std::move(a));
                   });
  }
  sqlite3_close(db);
  if (!status.ok()) return status;

  std::map<int64_t, std::string> run_name;
  for (const Run& r : runs) run_name[r.id] = r.name;
  std::vector<std::string> groups;
  std::map<std::string, std::vector<double>> psnr, rel, ssim;
  for (const Attack& a : attacks) {
    const std::string& g = run_name[a.run_id];
    if (std::find(groups.begin(), groups.end(), g) == groups.end()) groups.push_back(g);
    psnr[g].push_back(a.psnr);
    rel[g].push_back(a.rel);
    ssim[g].push_back(a.ssim);
  }
  std::vector<Stat> psnr_stats, rel_stats, ssim_stats;
  for (const std::string& g : groups) {
    psnr_stats.push_back(MeanSd(psnr[g]));
    rel_stats.push_back(MeanSd(rel[g]));
    ssim_stats.push_back(MeanSd(ssim[g]));
  }

  std::string html = HtmlPageStart("biofed report");
  absl::StrAppend(&html, "<h1>biofed study report</h1><p>Study <code>", HtmlEscape(db_path), "</code>: ", runs.size(),
                  " runs, ", attacks.size(), " attacked updates.</p>");
  html += "<h2>Runs</h2><table><tr><th>id</th><th class=\"l\">name</th><th class=\"l\">biomod</th><th>finished</th>"
          "<th class=\"l\">code version</th><th>final test accuracy</th></tr>";
  for (const Run& r : runs) {
    absl::StrAppendFormat(&html, "<tr><td>%d</td><td class=\"l\">%s</td><td class=\"l\">%s</td><td>%s</td>"
                                 "<td class=\"l\">%s</td><td>%s</td></tr>",
                          r.id, HtmlEscape(r.name), HtmlEscape(r.biomod), r.finished ? "yes" : "no", HtmlEscape(r.version),
                          r.accuracy.empty() ? "-" : absl::StrFormat("%.4f", r.accuracy.back().second));
  }
  html += "</table><h2>Test accuracy per round</h2>" + AccuracyChart(runs);
  html += "<h2>Reconstruction quality, baseline vs biomod</h2><p>Mean &#177; standard deviation over every attacked "
          "update of the runs with that name. Higher PSNR and SSIM and lower relative error mean the attacker "
          "recovered more of the client's batch.</p>";
  html += BarChart("psnr-chart", "PSNR (dB), higher = less private", groups, psnr_stats);
  html += BarChart("ssim-chart", "SSIM, higher = less private", groups, ssim_stats);
  html += BarChart("relative-error-chart", "relative error (%), lower = less private", groups, rel_stats);
  html += "<h2>Attacked updates</h2><table><tr><th>run</th><th>round</th><th class=\"l\">client</th>"
          "<th class=\"l\">attack</th><th>iterations</th><th class=\"l\">labels</th><th>FL factors known</th>"
          "<th>batch</th><th>MSE</th><th>PSNR</th><th>SSIM</th><th>rel. error %</th><th>label acc.</th>"
          "<th class=\"l\">truth (top) / reconstruction</th></tr>";
  for (const Attack& a : attacks) {
    absl::StrAppendFormat(
        &html,
        "<tr><td>%s</td><td>%d</td><td class=\"l\">%s</td><td class=\"l\">%s</td><td>%d</td><td class=\"l\">%s</td>"
        "<td>%s</td><td>%d</td><td>%.4g</td><td>%.2f</td><td>%.3f</td><td>%.1f</td><td>%.2f</td><td class=\"l\">",
        HtmlEscape(run_name[a.run_id]), a.round, HtmlEscape(a.client), HtmlEscape(a.attack), a.iterations, HtmlEscape(a.labels),
        a.fl_known ? "yes" : "no", a.batch, a.mse, a.psnr, a.ssim, a.rel, a.label_accuracy);
    html += InlinePng(a.png, "truth and reconstruction") + "</td></tr>";
  }
  html += "</table><h2>Configurations</h2>";
  for (const Run& r : runs) {
    absl::StrAppendFormat(&html, "<details><summary>run %d: %s</summary><pre>%s</pre></details>", r.id, HtmlEscape(r.name),
                          HtmlEscape(r.config));
  }
  html += HtmlPageEnd();
  return html;
}

}  // namespace biofed
