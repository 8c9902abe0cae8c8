#include "report/sweep_report.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <tuple>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "report/html_parts.h"
#include "report/study_reader.h"

namespace biofed {
namespace {

using Cell = CellRow;

// A training federation's accuracy curve: [[round, accuracy], ...] as text.
std::vector<std::pair<double, double>> Curve(const TrainingRow& t) {
  std::vector<std::pair<double, double>> points;
  const nlohmann::json curve = nlohmann::json::parse(t.accuracy_curve_json, nullptr, false);
  if (!curve.is_array()) return points;
  for (const auto& p : curve) {
    if (p.is_array() && p.size() == 2 && p[0].is_number() && p[1].is_number()) {
      points.push_back({p[0].get<double>(), p[1].get<double>()});
    }
  }
  return points;
}

// A trained victim's name: "trained", or it followed by "+aggregate:K" or
// "+share:S" (sweep/sweep_config.h; "untrained..." is not).
bool TrainedVictim(const std::string& victim) { return absl::StartsWith(victim, "trained"); }

// The state of the training behind a trained victim ("+state:converged", or
// the mid state unnamed), as TrainingRow::state names it.
std::string TrainedState(const std::string& victim) {
  return absl::StrContains(victim, "+state:converged") ? "converged" : "mid";
}

// Mechanism subsets in the paper's order: baseline, singles, pairs, all.
int MechanismRank(const std::string& m) {
  static const std::vector<std::string> order = {"none", "fl", "wr", "ws", "fl+wr", "fl+ws", "wr+ws", "fl+wr+ws"};
  const auto it = std::find(order.begin(), order.end(), m);
  return it == order.end() ? 100 : static_cast<int>(it - order.begin());
}

// An attack as the report names it: its compact name, and its iteration
// budget where the study ran it at more than one (so that budgets are never
// pooled).
class AttackLabels {
 public:
  explicit AttackLabels(const SweepStudy& study) {
    for (const Cell& c : study.cells) budgets_[c.scored.attack].insert(c.scored.iterations);
  }
  std::string operator()(const Cell& c) const {
    if (budgets_.at(c.scored.attack).size() < 2) return c.scored.attack;
    return absl::StrCat(c.scored.attack, ", ", c.scored.iterations, " iterations");
  }

 private:
  std::map<std::string, std::set<int64_t>> budgets_;
};

// Cells pooled over seeds and batch sizes: (model, victim, attack, defense) -> mechanisms -> cells.
using GroupKey = std::tuple<std::string, std::string, std::string, std::string>;
struct Group {
  std::vector<double> gradient_error, psnr, ssim, rel, label_accuracy;
  std::set<int64_t> batches, seeds;
};

// The baseline's PSNR under which an attack is said to fail on it: nothing
// can then be said of what a mechanism protects. report/paired_intervals.py
// draws the same line per batch size; the report's groups pool batch sizes.
constexpr double kBaselineReconstructedPsnrDb = 20.0;

// "" when the group's baseline is reconstructed (or absent), else the
// warning its tables and charts carry.
std::string BaselineVerdict(const std::map<std::string, Group>& by_mechanism) {
  const auto baseline = by_mechanism.find("none");
  if (baseline == by_mechanism.end()) return "";
  const double psnr = MeanSd(baseline->second.psnr).mean;
  if (psnr >= kBaselineReconstructedPsnrDb) return "";
  return absl::StrFormat("attack fails on the baseline (mean PSNR %.1f dB < %.0f dB): no privacy conclusion", psnr,
                         kBaselineReconstructedPsnrDb);
}

std::map<GroupKey, std::map<std::string, Group>> GroupCells(const SweepStudy& study) {
  std::map<GroupKey, std::map<std::string, Group>> groups;
  const AttackLabels attack_label(study);
  for (const Cell& c : study.cells) {
    Group& g = groups[{c.model, c.victim, attack_label(c), c.defense}][c.mechanisms];
    // Rows older than the column hold NaN: left out, and a group of only such rows shows "-".
    if (std::isfinite(c.scored.gradient_error_percent)) g.gradient_error.push_back(c.scored.gradient_error_percent);
    g.psnr.push_back(c.scored.psnr);
    g.ssim.push_back(c.scored.ssim);
    g.rel.push_back(c.scored.relative_error_percent);
    g.label_accuracy.push_back(c.scored.label_accuracy);
    g.batches.insert(c.scored.batch_size);
    g.seeds.insert(c.seed);
  }
  return groups;
}

// Per model: untrained before trained, and the undefended groups first.
std::vector<GroupKey> OrderedGroupKeys(const std::map<GroupKey, std::map<std::string, Group>>& groups) {
  std::vector<GroupKey> keys;
  for (const auto& [key, by_mechanism] : groups) keys.push_back(key);
  auto rank = [](const GroupKey& k) {
    const auto& [model, victim, attack, defense] = k;
    return std::make_tuple(model, TrainedVictim(victim) ? 1 : 0, victim, attack, defense == "none" ? 0 : 1, defense);
  };
  std::sort(keys.begin(), keys.end(), [&](const GroupKey& a, const GroupKey& b) { return rank(a) < rank(b); });
  return keys;
}

std::vector<std::string> SortedMechanisms(const std::map<std::string, Group>& by_mechanism) {
  std::vector<std::string> out;
  for (const auto& [m, g] : by_mechanism) out.push_back(m);
  std::sort(out.begin(), out.end(), [](const std::string& a, const std::string& b) {
    return std::make_pair(MechanismRank(a), a) < std::make_pair(MechanismRank(b), b);
  });
  return out;
}

// Mean test accuracy over seeds of the training federations of (model, mechanisms, defense, state).
using TrainingKey = std::tuple<std::string, std::string, std::string, std::string>;
std::map<TrainingKey, Stat> TrainedAccuracy(const SweepStudy& study) {
  std::map<TrainingKey, std::vector<double>> values;
  for (const TrainingRow& t : study.trainings) {
    values[{t.model, t.mechanisms, t.defense, t.state}].push_back(t.test_accuracy);
  }
  std::map<TrainingKey, Stat> out;
  for (const auto& [key, v] : values) out[key] = MeanSd(v);
  return out;
}

std::string Join(const std::set<int64_t>& values) {
  std::string out;
  for (int64_t v : values) absl::StrAppend(&out, out.empty() ? "" : ",", v);
  return out;
}

std::string PrivacyAccuracySection(const SweepStudy& study) {
  const auto accuracy = TrainedAccuracy(study);
  if (accuracy.empty()) return "";
  std::string html =
      "<h2>Privacy against accuracy</h2><p>Per model and attack, one point per mechanism subset and defense: x is "
      "the test accuracy of the training federation (mean over seeds), y the attacker's PSNR on that federation's "
      "trained model (mean over seeds and batch sizes). Down and to the right is better: less reconstructed, more "
      "accurate.</p>";
  // (model, attack) -> (mechanisms, defense) -> PSNRs on trained victims.
  std::map<std::pair<std::string, std::string>, std::map<std::pair<std::string, std::string>, std::vector<double>>> psnr;
  // The chart's victims send what the federation's clients send: one client's pseudo-gradient ("trained",
  // not its +share or +aggregate variants, which would mix protocols in one point).
  const AttackLabels attack_label(study);
  for (const Cell& c : study.cells) {
    if (c.victim == "trained") psnr[{c.model, attack_label(c)}][{c.mechanisms, c.defense}].push_back(c.scored.psnr);
  }
  for (const auto& [model_attack, points] : psnr) {
    const auto& [model, attack] = model_attack;
    std::vector<Series> series;
    for (const auto& [mechanisms_defense, values] : points) {
      const auto& [mechanisms, defense] = mechanisms_defense;
      const auto it = accuracy.find({model, mechanisms, defense, "mid"});
      if (it == accuracy.end()) continue;
      series.push_back({absl::StrCat(mechanisms, " / ", defense), {{it->second.mean, MeanSd(values).mean}}});
    }
    if (series.empty()) continue;
    html += XyChart(absl::StrCat("privacy-accuracy-", model, "-", attack),
                    absl::StrCat(model, ", ", attack, ": attacker PSNR vs test accuracy"), "test accuracy after training",
                    "PSNR (dB), trained victim", series, false);
  }
  return html;
}

std::string AccuracyCurvesSection(const SweepStudy& study) {
  if (study.trainings.empty()) return "";
  std::string html = "<h2>Accuracy of the training federations</h2><p>Test accuracy per round, mean over seeds.</p>";
  std::map<std::string, std::map<std::string, std::map<double, std::vector<double>>>> curves;
  for (const TrainingRow& t : study.trainings) {
    const std::string name = absl::StrCat(t.mechanisms, " / ", t.defense, t.state == "mid" ? "" : " / " + t.state);
    for (const auto& [round, acc] : Curve(t)) curves[t.model][name][round].push_back(acc);
  }
  for (const auto& [model, by_name] : curves) {
    std::vector<Series> series;
    for (const auto& [name, by_round] : by_name) {
      Series s{name, {}};
      for (const auto& [round, values] : by_round) s.points.push_back({round, MeanSd(values).mean});
      series.push_back(std::move(s));
    }
    html += XyChart(absl::StrCat("accuracy-", model), absl::StrCat(model, ": test accuracy per round"), "round",
                    "test accuracy", series, true, 1.0);
  }
  return html;
}

}  // namespace

absl::StatusOr<std::string> SweepSummaryText(const std::string& db_path) {
  auto study = ReadSweepStudy(db_path);
  if (!study.ok()) return study.status();
  const auto accuracy = TrainedAccuracy(*study);
  std::string out = absl::StrFormat("%-9s %-9s %-22s %-14s %-9s %3s %17s %15s %7s %17s %9s\n", "model", "victim",
                                    "attack", "defense", "mechanisms", "n", "grad_err_%", "psnr_db", "ssim", "rel_err_%",
                                    "accuracy");
  const auto groups = GroupCells(*study);
  for (const GroupKey& key : OrderedGroupKeys(groups)) {
    const auto& [model, victim, attack, defense] = key;
    const auto& by_mechanism = groups.at(key);
    for (const std::string& m : SortedMechanisms(by_mechanism)) {
      const Group& g = by_mechanism.at(m);
      const Stat gradient = MeanSd(g.gradient_error), psnr = MeanSd(g.psnr), rel = MeanSd(g.rel);
      const auto acc = accuracy.find({model, m, defense, TrainedState(victim)});
      const std::string acc_text =
          TrainedVictim(victim) && acc != accuracy.end() ? absl::StrFormat("%.4f", acc->second.mean) : "-";
      const std::string gradient_text =
          gradient.n > 0 ? absl::StrFormat("%8.2f +-%6.2f", gradient.mean, gradient.sd) : "-";
      absl::StrAppendFormat(&out, "%-9s %-9s %-22s %-14s %-9s %3d %17s %7.2f +-%5.2f %7.3f %8.1f +-%6.1f %9s\n",
                            model, victim, attack, defense, m, psnr.n, gradient_text, psnr.mean, psnr.sd,
                            MeanSd(g.ssim).mean, rel.mean, rel.sd, acc_text);
    }
    if (const std::string verdict = BaselineVerdict(by_mechanism); !verdict.empty()) {
      absl::StrAppend(&out, "  ^ ", verdict, "\n");
    }
  }
  return out;
}

namespace {

using Groups = std::map<GroupKey, std::map<std::string, Group>>;

// Per group, the bar charts of the gradient error (when measured), the
// relative error and the PSNR, one bar per mechanism subset.
std::string GroupChartsSection(const Groups& groups) {
  std::string html =
      "<h2>Reconstruction error, baseline vs biomod</h2><p>Per model, victim state, attack and defense: the "
      "attacker's reconstruction against the true batch (after Hungarian matching), mean &#177; standard "
      "deviation over seeds and batch sizes. First the paper's own measure, the gradient error 100 (1 - cos) "
      "between the update and the final reconstruction's gradient (0 = matched, 200 = opposite; a match "
      "says nothing of the image by itself), then the image-space scores: relative error (100% = an error the "
      "size of the image) and PSNR; higher error and lower PSNR mean more privacy.</p>";
  int chart = 0;
  for (const GroupKey& key : OrderedGroupKeys(groups)) {
    const auto& [model, victim, attack, defense] = key;
    const auto& by_mechanism = groups.at(key);
    const std::vector<std::string> mechanisms = SortedMechanisms(by_mechanism);
    std::vector<Stat> gradient, rel, psnr;
    for (const std::string& m : mechanisms) {
      gradient.push_back(MeanSd(by_mechanism.at(m).gradient_error));
      rel.push_back(MeanSd(by_mechanism.at(m).rel));
      psnr.push_back(MeanSd(by_mechanism.at(m).psnr));
    }
    const std::string title = absl::StrCat(model, ", ", victim, ", ", attack, ", defense ", defense);
    absl::StrAppend(&html, "<h3>", HtmlEscape(title), "</h3>");
    if (const std::string verdict = BaselineVerdict(by_mechanism); !verdict.empty()) {
      absl::StrAppend(&html, "<p class=\"warn\">", HtmlEscape(verdict), "</p>");
    }
    // A study older than the measure has none: no chart rather than bars of 0.
    const bool measured = std::any_of(gradient.begin(), gradient.end(), [](const Stat& s) { return s.n > 0; });
    ++chart;
    if (measured) {
      html += BarChart(absl::StrCat("gradient-", chart), "gradient error 100 (1 - cos) (%), the paper's measure, " +
                       title, mechanisms, gradient);
    }
    html += BarChart(absl::StrCat("rel-", chart), "relative error (%), " + title, mechanisms, rel);
    html += BarChart(absl::StrCat("psnr-", chart), "PSNR (dB), " + title, mechanisms, psnr);
  }
  return html;
}

// Every group and mechanism subset as a table row.
std::string AllGroupsTable(const Groups& groups, const SweepStudy& study) {
  const auto accuracy = TrainedAccuracy(study);
  std::string html =
      "<h2>All groups</h2><table><tr><th class=\"l\">model</th><th class=\"l\">victim</th><th class=\"l\">attack"
      "</th><th class=\"l\">defense</th><th class=\"l\">mechanisms</th><th>batches</th><th>seeds</th><th>n</th>"
      "<th>gradient error %</th><th>PSNR dB</th><th>SSIM</th><th>rel. error %</th><th>label acc.</th>"
      "<th>trained accuracy</th></tr>";
  for (const GroupKey& key : OrderedGroupKeys(groups)) {
    const auto& [model, victim, attack, defense] = key;
    const auto& by_mechanism = groups.at(key);
    for (const std::string& m : SortedMechanisms(by_mechanism)) {
      const Group& g = by_mechanism.at(m);
      const Stat gradient = MeanSd(g.gradient_error), psnr = MeanSd(g.psnr), ssim = MeanSd(g.ssim),
                 rel = MeanSd(g.rel);
      const auto acc = accuracy.find({model, m, defense, TrainedState(victim)});
      absl::StrAppendFormat(
          &html,
          "<tr><td class=\"l\">%s</td><td class=\"l\">%s</td><td class=\"l\">%s</td><td class=\"l\">%s</td>"
          "<td class=\"l\">%s</td><td>%s</td><td>%s</td><td>%d</td><td>%s</td><td>%.2f &#177; %.2f</td>"
          "<td>%.3f &#177; %.3f</td>"
          "<td>%.1f &#177; %.1f</td><td>%.2f</td><td>%s</td></tr>",
          HtmlEscape(model), HtmlEscape(victim), HtmlEscape(attack), HtmlEscape(defense), HtmlEscape(m),
          Join(g.batches), Join(g.seeds), psnr.n,
          gradient.n > 0 ? absl::StrFormat("%.2f &#177; %.2f", gradient.mean, gradient.sd) : "-", psnr.mean, psnr.sd,
          ssim.mean, ssim.sd,
          rel.mean, rel.sd,
          MeanSd(g.label_accuracy).mean,
          TrainedVictim(victim) && acc != accuracy.end() ? absl::StrFormat("%.4f", acc->second.mean) : "-");
    }
    if (const std::string verdict = BaselineVerdict(by_mechanism); !verdict.empty()) {
      absl::StrAppend(&html, "<tr><td class=\"l warn\" colspan=\"14\">", HtmlEscape(verdict), "</td></tr>");
    }
  }
  return html + "</table>";
}

// One truth/reconstruction image per group and subset: the first seed's
// largest batch.
std::string ReconstructionsSection(const SweepStudy& study) {
  std::string html =
      "<h2>Reconstructions</h2><p>Truth (top row) and reconstruction (bottom row), for the first seed "
      "and the largest batch of each group.</p><table><tr><th class=\"l\">group</th><th class=\"l\">mechanisms"
      "</th><th>PSNR dB</th><th class=\"l\">truth / reconstruction</th></tr>";
  std::map<std::tuple<std::string, std::string, std::string, std::string, std::string>, const Cell*> shown;
  const AttackLabels attack_label(study);
  for (const Cell& c : study.cells) {
    const Cell*& best = shown[{c.model, c.victim, attack_label(c), c.defense, c.mechanisms}];
    if (best == nullptr || c.seed < best->seed ||
        (c.seed == best->seed && c.scored.batch_size > best->scored.batch_size)) {
      best = &c;
    }
  }
  for (const auto& [key, c] : shown) {
    if (c->scored.png.bytes.empty()) continue;
    absl::StrAppendFormat(&html, "<tr><td class=\"l\">%s</td><td class=\"l\">%s</td><td>%.2f</td><td class=\"l\">%s</td></tr>",
                          HtmlEscape(absl::StrCat(c->model, ", ", c->victim, ", ", attack_label(*c), ", ", c->defense,
                                                  ", batch ", c->scored.batch_size, ", seed ", c->seed)),
                          HtmlEscape(c->mechanisms), c->scored.psnr,
                          InlinePng(c->scored.png.bytes, "truth and reconstruction"));
  }
  return html + "</table>";
}

}  // namespace

absl::StatusOr<std::string> RenderSweepReport(const std::string& db_path) {
  auto loaded = ReadSweepStudy(db_path);
  if (!loaded.ok()) return loaded.status();
  const SweepStudy& study = *loaded;
  const Groups groups = GroupCells(study);
  std::string html = HtmlPageStart("biofed sweep report");
  absl::StrAppend(&html, "<h1>biofed sweep report</h1><p>Study <code>", HtmlEscape(db_path), "</code>: ",
                  study.cells.size(), " attacked updates, ", study.trainings.size(), " training federations, ",
                  study.invocations.size(), " invocations.</p>");
  html += GroupChartsSection(groups);
  html += PrivacyAccuracySection(study);
  html += AccuracyCurvesSection(study);
  html += AllGroupsTable(groups, study);
  html += ReconstructionsSection(study);
  html += "<h2>Settings</h2><pre>" + HtmlEscape(study.settings) + "</pre><h2>Invocations</h2><ul>";
  for (const auto& [started, version] : study.invocations) {
    absl::StrAppend(&html, "<li>", HtmlEscape(started), ", code ", HtmlEscape(version), "</li>");
  }
  html += "</ul>" + HtmlPageEnd();
  return html;
}

}  // namespace biofed
