#include "report/html_report.h"

#include <sqlite3.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_replace.h"

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

std::string Escape(const std::string& s) {
  return absl::StrReplaceAll(s, {{"&", "&amp;"}, {"<", "&lt;"}, {">", "&gt;"}, {"\"", "&quot;"}});
}

std::string Text(sqlite3_stmt* s, int column) {
  const unsigned char* t = sqlite3_column_text(s, column);
  return t ? reinterpret_cast<const char*>(t) : "";
}

// Runs `sql` and calls `row` per result row; INVALID_ARGUMENT when it fails.
template <typename Row>
absl::Status Query(sqlite3* db, const char* sql, Row row) {
  sqlite3_stmt* s = nullptr;
  if (sqlite3_prepare_v2(db, sql, -1, &s, nullptr) != SQLITE_OK) {
    return absl::InvalidArgumentError(absl::StrCat("not a biofed study: ", sqlite3_errmsg(db)));
  }
  while (sqlite3_step(s) == SQLITE_ROW) row(s);
  sqlite3_finalize(s);
  return absl::OkStatus();
}

const char* const kColors[] = {"#4c72b0", "#dd8452", "#55a868", "#c44e52", "#8172b3", "#937860", "#da8bc3", "#8c8c8c"};

std::string AccuracyChart(const std::vector<Run>& runs) {
  const double w = 640, h = 300, left = 50, bottom = 40, top = 20, right = 160;
  int64_t max_round = 1;
  for (const Run& r : runs) {
    for (const auto& [round, acc] : r.accuracy) max_round = std::max(max_round, round);
  }
  auto x = [&](double round) { return left + (round - 1) / std::max<double>(1, max_round - 1) * (w - left - right); };
  auto y = [&](double acc) { return top + (1 - acc) * (h - top - bottom); };
  std::string svg = absl::StrFormat(
      "<svg class=\"chart\" id=\"accuracy-chart\" width=\"%g\" height=\"%g\" role=\"img\" "
      "aria-label=\"test accuracy per round\">",
      w, h);
  for (double a = 0; a <= 1.0001; a += 0.2) {
    absl::StrAppendFormat(&svg, "<line x1=\"%g\" y1=\"%g\" x2=\"%g\" y2=\"%g\" stroke=\"#ddd\"/>", left, y(a),
                          w - right, y(a));
    absl::StrAppendFormat(&svg, "<text x=\"%g\" y=\"%g\" font-size=\"11\" text-anchor=\"end\">%.1f</text>", left - 5,
                          y(a) + 4, a);
  }
  absl::StrAppendFormat(&svg, "<text x=\"%g\" y=\"%g\" font-size=\"12\" text-anchor=\"middle\">round (1..%d)</text>",
                        (left + w - right) / 2, h - 8, max_round);
  for (size_t i = 0; i < runs.size(); ++i) {
    const char* color = kColors[i % 8];
    std::string points;
    for (const auto& [round, acc] : runs[i].accuracy) absl::StrAppendFormat(&points, "%.1f,%.1f ", x(round), y(acc));
    absl::StrAppendFormat(&svg, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\" points=\"%s\"/>", color,
                          points);
    absl::StrAppendFormat(&svg, "<rect x=\"%g\" y=\"%g\" width=\"12\" height=\"12\" fill=\"%s\"/>", w - right + 10,
                          top + 18.0 * i, color);
    absl::StrAppendFormat(&svg, "<text x=\"%g\" y=\"%g\" font-size=\"12\">%s (run %d)</text>", w - right + 26,
                          top + 18.0 * i + 10, Escape(runs[i].name), runs[i].id);
  }
  return svg + "</svg>";
}

struct Stat {
  double mean = 0, sd = 0;
  size_t n = 0;
};

Stat MeanSd(const std::vector<double>& v) {
  Stat s;
  s.n = v.size();
  if (v.empty()) return s;
  for (double x : v) s.mean += x;
  s.mean /= static_cast<double>(v.size());
  if (v.size() > 1) {
    for (double x : v) s.sd += (x - s.mean) * (x - s.mean);
    s.sd = std::sqrt(s.sd / static_cast<double>(v.size() - 1));
  }
  return s;
}

// Bars with +-1 sd whiskers, one per group.
std::string BarChart(const std::string& id, const std::string& title, const std::vector<std::string>& groups,
                     const std::vector<Stat>& stats) {
  const double w = 640, h = 280, left = 60, bottom = 50, top = 30;
  double max_value = 1e-9;
  for (const Stat& s : stats) max_value = std::max(max_value, s.mean + s.sd);
  max_value *= 1.1;
  const double slot = (w - left - 20) / std::max<size_t>(groups.size(), 1);
  auto y = [&](double v) { return top + (1 - v / max_value) * (h - top - bottom); };
  std::string svg = absl::StrFormat("<svg class=\"chart\" id=\"%s\" width=\"%g\" height=\"%g\" role=\"img\" "
                                    "aria-label=\"%s\"><text x=\"%g\" y=\"18\" font-size=\"13\">%s</text>",
                                    id, w, h, Escape(title), left, Escape(title));
  for (int k = 0; k <= 4; ++k) {
    const double v = max_value * k / 4;
    absl::StrAppendFormat(&svg, "<line x1=\"%g\" y1=\"%g\" x2=\"%g\" y2=\"%g\" stroke=\"#ddd\"/>", left, y(v), w - 20,
                          y(v));
    absl::StrAppendFormat(&svg, "<text x=\"%g\" y=\"%g\" font-size=\"11\" text-anchor=\"end\">%.3g</text>", left - 5,
                          y(v) + 4, v);
  }
  for (size_t i = 0; i < groups.size(); ++i) {
    const double cx = left + slot * (i + 0.5);
    const double bw = slot * 0.5;
    absl::StrAppendFormat(&svg, "<rect x=\"%g\" y=\"%g\" width=\"%g\" height=\"%g\" fill=\"%s\"/>", cx - bw / 2,
                          y(stats[i].mean), bw, y(0) - y(stats[i].mean), kColors[i % 8]);
    absl::StrAppendFormat(&svg, "<line x1=\"%g\" y1=\"%g\" x2=\"%g\" y2=\"%g\" stroke=\"#000\"/>", cx,
                          y(std::max(0.0, stats[i].mean - stats[i].sd)), cx, y(stats[i].mean + stats[i].sd));
    absl::StrAppendFormat(&svg, "<text x=\"%g\" y=\"%g\" font-size=\"12\" text-anchor=\"middle\">%s</text>", cx,
                          h - bottom + 16, Escape(groups[i]));
    absl::StrAppendFormat(&svg, "<text x=\"%g\" y=\"%g\" font-size=\"11\" text-anchor=\"middle\">%.3g &#177; %.2g (n=%d)</text>",
                          cx, h - bottom + 32, stats[i].mean, stats[i].sd, stats[i].n);
  }
  return svg + "</svg>";
}

}  // namespace

absl::StatusOr<std::string> RenderHtmlReport(const std::string& db_path) {
  if (!std::filesystem::exists(db_path)) return absl::NotFoundError(absl::StrCat("no study at ", db_path));
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    sqlite3_close(db);
    return absl::InvalidArgumentError(absl::StrCat("cannot open ", db_path));
  }
  std::vector<Run> runs;
  std::vector<Attack> attacks;
  absl::Status status = Query(db, "SELECT id, name, biomod, config_json, code_version, finished FROM runs ORDER BY id",
                              [&](sqlite3_stmt* s) {
                                runs.push_back({sqlite3_column_int64(s, 0), Text(s, 1), Text(s, 2), Text(s, 3),
                                                Text(s, 4), sqlite3_column_int64(s, 5) != 0, {}});
                              });
  if (status.ok()) {
    status = Query(db, "SELECT run_id, round, test_accuracy FROM rounds ORDER BY run_id, round", [&](sqlite3_stmt* s) {
      for (Run& r : runs) {
        if (r.id == sqlite3_column_int64(s, 0)) r.accuracy.push_back({sqlite3_column_int64(s, 1), sqlite3_column_double(s, 2)});
      }
    });
  }
  if (status.ok()) {
    status = Query(db,
                   "SELECT run_id, round, client_id, attack, iterations, labels, fl_factors_known, batch_size, mse, "
                   "psnr, ssim, relative_error_percent, label_accuracy, png FROM attacks ORDER BY run_id, round, client_id",
                   [&](sqlite3_stmt* s) {
                     Attack a;
                     a.run_id = sqlite3_column_int64(s, 0);
                     a.round = sqlite3_column_int64(s, 1);
                     a.client = Text(s, 2);
                     a.attack = Text(s, 3);
                     a.iterations = sqlite3_column_int64(s, 4);
                     a.labels = Text(s, 5);
                     a.fl_known = sqlite3_column_int64(s, 6) != 0;
                     a.batch = sqlite3_column_int64(s, 7);
                     a.mse = sqlite3_column_double(s, 8);
                     a.psnr = sqlite3_column_double(s, 9);
                     a.ssim = sqlite3_column_double(s, 10);
                     a.rel = sqlite3_column_double(s, 11);
                     a.label_accuracy = sqlite3_column_double(s, 12);
                     const void* blob = sqlite3_column_blob(s, 13);
                     a.png.assign(static_cast<const char*>(blob), blob ? sqlite3_column_bytes(s, 13) : 0);
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

  std::string html =
      "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>biofed report</title><style>"
      "body{font-family:sans-serif;margin:2em;max-width:1100px}table{border-collapse:collapse;margin:1em 0}"
      "td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}th{background:#f3f3f3}"
      "td.l,th.l{text-align:left}img.reconstruction{image-rendering:pixelated;height:84px}"
      "pre{background:#f7f7f7;padding:8px;overflow:auto}</style></head><body>";
  absl::StrAppend(&html, "<h1>biofed study report</h1><p>Study <code>", Escape(db_path), "</code>: ", runs.size(),
                  " runs, ", attacks.size(), " attacked updates.</p>");
  html += "<h2>Runs</h2><table><tr><th>id</th><th class=\"l\">name</th><th class=\"l\">biomod</th><th>finished</th>"
          "<th class=\"l\">code version</th><th>final test accuracy</th></tr>";
  for (const Run& r : runs) {
    absl::StrAppendFormat(&html, "<tr><td>%d</td><td class=\"l\">%s</td><td class=\"l\">%s</td><td>%s</td>"
                                 "<td class=\"l\">%s</td><td>%s</td></tr>",
                          r.id, Escape(r.name), Escape(r.biomod), r.finished ? "yes" : "no", Escape(r.version),
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
        Escape(run_name[a.run_id]), a.round, Escape(a.client), Escape(a.attack), a.iterations, Escape(a.labels),
        a.fl_known ? "yes" : "no", a.batch, a.mse, a.psnr, a.ssim, a.rel, a.label_accuracy);
    if (!a.png.empty()) {
      absl::StrAppend(&html, "<img class=\"reconstruction\" alt=\"truth and reconstruction\" src=\"data:image/png;base64,",
                      absl::Base64Escape(a.png), "\">");
    }
    html += "</td></tr>";
  }
  html += "</table><h2>Configurations</h2>";
  for (const Run& r : runs) {
    absl::StrAppendFormat(&html, "<details><summary>run %d: %s</summary><pre>%s</pre></details>", r.id, Escape(r.name),
                          Escape(r.config));
  }
  // Marks the page once every image has decoded, for the rendering test.
  html += "<script>window.addEventListener('load',function(){var imgs=document.images,ok=0;"
          "for(var i=0;i<imgs.length;i++){if(imgs[i].complete&&imgs[i].naturalWidth>0)ok++;}"
          "document.body.setAttribute('data-rendered','images '+ok+'/'+imgs.length+' charts '+"
          "document.querySelectorAll('svg.chart').length);});</script></body></html>\n";
  return html;
}

}  // namespace biofed
