// Pieces shared by the HTML reports: escaping, mean and standard deviation,
// inline-SVG charts and the page frame. Torch-free;
// thread-safe.
#ifndef BIOFED_REPORT_HTML_PARTS_H_
#define BIOFED_REPORT_HTML_PARTS_H_

#include <cstddef>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"

namespace biofed {

std::string HtmlEscape(const std::string& s);

struct Stat {
  double mean = 0, sd = 0;  // sample standard deviation (n - 1)
  size_t n = 0;
};
Stat MeanSd(const std::vector<double>& values);

const char* ChartColor(size_t index);

// Bars with +-1 sd whiskers, one per group, labelled with mean, sd and n.
std::string BarChart(const std::string& id, const std::string& title, const std::vector<std::string>& groups,
                     const std::vector<Stat>& stats);

struct Series {
  std::string name;
  std::vector<std::pair<double, double>> points;  // (x, y)
};
// Lines (or, with `lines` false, labelled points) over a [0, 1] y axis
// unless `y_max` is given, with a legend.
std::string XyChart(const std::string& id, const std::string& title, const std::string& x_label,
                    const std::string& y_label, const std::vector<Series>& series, bool lines, double y_max = 0);

// <img> of an inline PNG.
std::string InlinePng(const std::string& png, const std::string& alt);

// The page head and, at the end, the script that marks the page as
// rendered ("images OK/N charts M") for the rendering tests.
std::string HtmlPageStart(const std::string& title);
std::string HtmlPageEnd();

}  // namespace biofed

#endif  // BIOFED_REPORT_HTML_PARTS_H_
