#include "report/html_parts.h"


#include <algorithm>
#include <cmath>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_replace.h"

namespace biofed {

std::string HtmlEscape(const std::string& s) {
  return absl::StrReplaceAll(s, {{"&", "&amp;"}, {"<", "&lt;"}, {">", "&gt;"}, {"\"", "&quot;"}});
}

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

const char* ChartColor(size_t index) {
  static const char* const kColors[] = {"#4c72b0", "#dd8452", "#55a868", "#c44e52",
                                        "#8172b3", "#937860", "#da8bc3", "#8c8c8c"};
  return kColors[index % 8];
}

std::string BarChart(const std::string& id, const std::string& title, const std::vector<std::string>& groups,
                     const std::vector<Stat>& stats) {
  const double w = std::max(640.0, 90.0 * groups.size() + 80), h = 280, left = 60, bottom = 50, top = 30;
  double max_value = 1e-9;
  for (const Stat& s : stats) max_value = std::max(max_value, s.mean + s.sd);
  max_value *= 1.1;
  const double slot = (w - left - 20) / std::max<size_t>(groups.size(), 1);
  auto y = [&](double v) { return top + (1 - v / max_value) * (h - top - bottom); };
  std::string svg = absl::StrFormat("<svg class=\"chart\" id=\"%s\" width=\"%g\" height=\"%g\" role=\"img\" "
                                    "aria-label=\"%s\"><text x=\"%g\" y=\"18\" font-size=\"13\">%s</text>",
                                    HtmlEscape(id), w, h, HtmlEscape(title), left, HtmlEscape(title));
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
                          y(stats[i].mean), bw, y(0) - y(stats[i].mean), ChartColor(i));
    absl::StrAppendFormat(&svg, "<line x1=\"%g\" y1=\"%g\" x2=\"%g\" y2=\"%g\" stroke=\"#000\"/>", cx,
                          y(std::max(0.0, stats[i].mean - stats[i].sd)), cx, y(stats[i].mean + stats[i].sd));
    absl::StrAppendFormat(&svg, "<text x=\"%g\" y=\"%g\" font-size=\"12\" text-anchor=\"middle\">%s</text>", cx,
                          h - bottom + 16, HtmlEscape(groups[i]));
    absl::StrAppendFormat(&svg,
                          "<text x=\"%g\" y=\"%g\" font-size=\"11\" text-anchor=\"middle\">%.3g &#177; %.2g (n=%d)</text>",
                          cx, h - bottom + 32, stats[i].mean, stats[i].sd, stats[i].n);
  }
  return svg + "</svg>";
}

std::string XyChart(const std::string& id, const std::string& title, const std::string& x_label,
                    const std::string& y_label, const std::vector<Series>& series, bool lines, double y_max) {
  const double w = 720, h = 320, left = 55, bottom = 42, top = 28, right = 220;
  double x_min = 1e300, x_max = -1e300, y_top = y_max;
  for (const Series& s : series) {
    for (const auto& [x, yv] : s.points) {
      x_min = std::min(x_min, x);
      x_max = std::max(x_max, x);
      if (y_max <= 0) y_top = std::max(y_top, yv);
    }
  }
  if (x_min > x_max) x_min = 0, x_max = 1;
  if (x_max - x_min < 1e-12) x_min -= 0.5, x_max += 0.5;
  if (y_top <= 0) y_top = 1;
  if (y_max <= 0) y_top *= 1.1;
  auto px = [&](double x) { return left + (x - x_min) / (x_max - x_min) * (w - left - right); };
  auto py = [&](double v) { return top + (1 - v / y_top) * (h - top - bottom); };
  std::string svg = absl::StrFormat("<svg class=\"chart\" id=\"%s\" width=\"%g\" height=\"%g\" role=\"img\" "
                                    "aria-label=\"%s\"><text x=\"%g\" y=\"16\" font-size=\"13\">%s</text>",
                                    HtmlEscape(id), w, h, HtmlEscape(title), left, HtmlEscape(title));
  for (int k = 0; k <= 5; ++k) {
    const double v = y_top * k / 5;
    absl::StrAppendFormat(&svg, "<line x1=\"%g\" y1=\"%g\" x2=\"%g\" y2=\"%g\" stroke=\"#ddd\"/>", left, py(v),
                          w - right, py(v));
    absl::StrAppendFormat(&svg, "<text x=\"%g\" y=\"%g\" font-size=\"11\" text-anchor=\"end\">%.3g</text>", left - 5,
                          py(v) + 4, v);
  }
  absl::StrAppendFormat(&svg, "<text x=\"%g\" y=\"%g\" font-size=\"12\" text-anchor=\"middle\">%s (%.3g to %.3g)</text>",
                        (left + w - right) / 2, h - 8, HtmlEscape(x_label), x_min, x_max);
  absl::StrAppendFormat(&svg, "<text x=\"12\" y=\"%g\" font-size=\"12\" transform=\"rotate(-90 12 %g)\" "
                              "text-anchor=\"middle\">%s</text>",
                        (top + h - bottom) / 2, (top + h - bottom) / 2, HtmlEscape(y_label));
  for (size_t i = 0; i < series.size(); ++i) {
    const char* color = ChartColor(i);
    if (lines) {
      std::string points;
      for (const auto& [x, yv] : series[i].points) absl::StrAppendFormat(&points, "%.1f,%.1f ", px(x), py(yv));
      absl::StrAppendFormat(&svg, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\" points=\"%s\"/>", color,
                            points);
    } else {
      for (const auto& [x, yv] : series[i].points) {
        absl::StrAppendFormat(&svg, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"5\" fill=\"%s\"/>", px(x), py(yv), color);
      }
    }
    absl::StrAppendFormat(&svg, "<rect x=\"%g\" y=\"%g\" width=\"12\" height=\"12\" fill=\"%s\"/>", w - right + 10,
                          top + 16.0 * i, color);
    absl::StrAppendFormat(&svg, "<text x=\"%g\" y=\"%g\" font-size=\"11\">%s</text>", w - right + 26,
                          top + 16.0 * i + 10, HtmlEscape(series[i].name));
  }
  return svg + "</svg>";
}

std::string InlinePng(const std::string& png, const std::string& alt) {
  if (png.empty()) return "";
  return absl::StrCat("<img class=\"reconstruction\" alt=\"", HtmlEscape(alt), "\" src=\"data:image/png;base64,",
                      absl::Base64Escape(png), "\">");
}

std::string HtmlPageStart(const std::string& title) {
  return absl::StrCat(
      "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>", HtmlEscape(title),
      "</title><style>"
      "body{font-family:sans-serif;margin:2em;max-width:1200px}table{border-collapse:collapse;margin:1em 0}"
      "td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}th{background:#f3f3f3}"
      "td.l,th.l{text-align:left}img.reconstruction{image-rendering:pixelated;height:84px}"
      "pre{background:#f7f7f7;padding:8px;overflow:auto}.warn{color:#a33;font-weight:bold}</style></head><body>");
}

std::string HtmlPageEnd() {
  // Marks the page once every image has decoded, for the rendering tests.
  return "<script>window.addEventListener('load',function(){var imgs=document.images,ok=0;"
         "for(var i=0;i<imgs.length;i++){if(imgs[i].complete&&imgs[i].naturalWidth>0)ok++;}"
         "document.body.setAttribute('data-rendered','images '+ok+'/'+imgs.length+' charts '+"
         "document.querySelectorAll('svg.chart').length);});</script></body></html>\n";
}

}  // namespace biofed
