#include "report/html_report.h"

#include <algorithm>
#include <map>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/status_macros.h"
#include "report/html_parts.h"
#include "report/study_reader.h"
#include "report/sweep_report.h"

namespace biofed {
namespace {

// Test accuracy per round, one line per run.
std::string AccuracyChart(const std::vector<StudyRun>& runs) {
  std::vector<Series> series;
  for (const StudyRun& r : runs) {
    Series s{absl::StrCat(r.name, " (run ", r.id, ")"), {}};
    for (const RoundRow& round : r.rounds) s.points.push_back({static_cast<double>(round.round), round.test_accuracy});
    series.push_back(std::move(s));
  }
  return XyChart("accuracy-chart", "test accuracy per round", "round", "test accuracy", series, true, 1.0);
}

// Mean and sd of PSNR, SSIM and relative error per run name, in run order.
struct QualityStats {
  std::vector<std::string> groups;
  std::vector<Stat> psnr, ssim, rel;
};

QualityStats Quality(const FederationStudy& study) {
  QualityStats q;
  std::map<std::string, std::vector<double>> psnr, rel, ssim;
  for (const StudyRun& r : study.runs) {
    if (std::find(q.groups.begin(), q.groups.end(), r.name) == q.groups.end() && !r.attacks.empty()) {
      q.groups.push_back(r.name);
    }
    for (const ObservedAttack& a : r.attacks) {
      psnr[r.name].push_back(a.scored.psnr);
      rel[r.name].push_back(a.scored.relative_error_percent);
      ssim[r.name].push_back(a.scored.ssim);
    }
  }
  for (const std::string& g : q.groups) {
    q.psnr.push_back(MeanSd(psnr[g]));
    q.rel.push_back(MeanSd(rel[g]));
    q.ssim.push_back(MeanSd(ssim[g]));
  }
  return q;
}

std::string RunsTable(const FederationStudy& study) {
  std::string html = "<h2>Runs</h2><table><tr><th>id</th><th class=\"l\">name</th><th class=\"l\">biomod</th>"
                     "<th>finished</th><th class=\"l\">code version</th><th>final test accuracy</th></tr>";
  for (const StudyRun& r : study.runs) {
    absl::StrAppendFormat(&html, "<tr><td>%d</td><td class=\"l\">%s</td><td class=\"l\">%s</td><td>%s</td>"
                                 "<td class=\"l\">%s</td><td>%s</td></tr>",
                          r.id, HtmlEscape(r.name), HtmlEscape(r.biomod), r.finished ? "yes" : "no",
                          HtmlEscape(r.code_version),
                          r.rounds.empty() ? "-" : absl::StrFormat("%.4f", r.rounds.back().test_accuracy));
  }
  return html + "</table>";
}

std::string AttacksTable(const FederationStudy& study) {
  std::string html = "<h2>Attacked updates</h2><table><tr><th>run</th><th>round</th><th class=\"l\">client</th>"
                     "<th class=\"l\">attack</th><th>iterations</th><th class=\"l\">labels</th>"
                     "<th>FL factors known</th><th>batch</th><th>MSE</th><th>PSNR</th><th>SSIM</th>"
                     "<th>rel. error %</th><th>label acc.</th><th class=\"l\">truth (top) / reconstruction</th></tr>";
  for (const StudyRun& r : study.runs) {
    for (const ObservedAttack& a : r.attacks) {
      const ScoredAttack& s = a.scored;
      absl::StrAppendFormat(
          &html,
          "<tr><td>%s</td><td>%d</td><td class=\"l\">%s</td><td class=\"l\">%s</td><td>%d</td><td class=\"l\">%s</td>"
          "<td>%s</td><td>%d</td><td>%.4g</td><td>%.2f</td><td>%.3f</td><td>%.1f</td><td>%.2f</td><td class=\"l\">",
          HtmlEscape(r.name), a.round, HtmlEscape(a.client_id), HtmlEscape(s.attack), s.iterations,
          s.labels_known ? "known" : "inferred", s.fl_factors_known ? "yes" : "no", s.batch_size, s.mse, s.psnr, s.ssim,
          s.relative_error_percent, s.label_accuracy);
      html += InlinePng(s.png.bytes, "truth and reconstruction") + "</td></tr>";
    }
  }
  return html + "</table>";
}

std::string RenderFederationReport(const std::string& db_path, const FederationStudy& study) {
  size_t attacks = 0;
  for (const StudyRun& r : study.runs) attacks += r.attacks.size();
  const QualityStats q = Quality(study);
  std::string html = HtmlPageStart("biofed report");
  absl::StrAppend(&html, "<h1>biofed study report</h1><p>Study <code>", HtmlEscape(db_path), "</code>: ",
                  study.runs.size(), " runs, ", attacks, " attacked updates.</p>");
  html += RunsTable(study);
  html += "<h2>Test accuracy per round</h2>" + AccuracyChart(study.runs);
  html += "<h2>Reconstruction quality, baseline vs biomod</h2><p>Mean &#177; standard deviation over every attacked "
          "update of the runs with that name. Higher PSNR and SSIM and lower relative error mean the attacker "
          "recovered more of the client's batch.</p>";
  html += BarChart("psnr-chart", "PSNR (dB), higher = less private", q.groups, q.psnr);
  html += BarChart("ssim-chart", "SSIM, higher = less private", q.groups, q.ssim);
  html += BarChart("relative-error-chart", "relative error (%), lower = less private", q.groups, q.rel);
  html += AttacksTable(study) + "<h2>Configurations</h2>";
  for (const StudyRun& r : study.runs) {
    absl::StrAppendFormat(&html, "<details><summary>run %d: %s</summary><pre>%s</pre></details>", r.id,
                          HtmlEscape(r.name), HtmlEscape(r.config_json));
  }
  return html + HtmlPageEnd();
}

}  // namespace

absl::StatusOr<std::string> RenderHtmlReport(const std::string& db_path) {
  BIOFED_ASSIGN_OR_RETURN(bool sweep, IsSweepStudy(db_path));
  if (sweep) return RenderSweepReport(db_path);
  BIOFED_ASSIGN_OR_RETURN(FederationStudy study, ReadFederationStudy(db_path));
  return RenderFederationReport(db_path, study);
}

}  // namespace biofed
