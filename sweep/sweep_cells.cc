#include "sweep/sweep_cells.h"

#include <set>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "attack/attack_settings.h"
#include "client/biomod_options.h"
#include "sweep/defense.h"
#include "sweep/sweep_mechanisms.h"

namespace biofed {
namespace {

std::string CanonicalMechanisms(const SweepConfig& config, const std::string& list) {
  auto b = ParseSweepMechanisms(list, config.mechanism_parameters);
  return b.ok() ? SweepMechanismsName(*b, config.mechanism_parameters) : list;
}

std::string CanonicalDefense(const std::string& spec) {
  auto d = ParseDefense(spec);
  return d.ok() ? DefenseName(*d) : spec;
}

std::string CanonicalVictim(const std::string& text) {
  auto v = ParseSweepVictim(text);
  return v.ok() ? SweepVictimName(*v) : text;
}

std::string CanonicalAttack(const SweepConfig& config, const std::string& name) {
  auto a = ParseAttackSpec(name, config.attacker);
  return a.ok() ? AttackSpecName(*a, config.attacker) : name;
}

}  // namespace

std::string TrainingJob::Key() const {
  return absl::StrCat("model=", model, "|mechanisms=", mechanisms, "|defense=", defense, "|seed=", seed,
                      converged ? "|state=converged" : "");
}

std::string AttackCell::Key() const {
  return absl::StrCat("model=", model, "|mechanisms=", mechanisms, "|victim=", victim, "|attack=", attack,
                      "|batch=", batch_size, "|seed=", seed, "|defense=", defense, "|iterations=", iterations);
}

CellRow CellRowOf(const AttackCell& cell) {
  CellRow row;
  row.key = cell.Key();
  row.model = cell.model;
  row.mechanisms = cell.mechanisms;
  row.victim = cell.victim;
  row.defense = cell.defense;
  row.seed = cell.seed;
  return row;
}

std::vector<AttackCell> ExpandCells(const SweepConfig& config) {
  std::vector<AttackCell> cells;
  std::set<std::string> seen;
  for (const SweepGrid& g : config.grids) {
    const int64_t iterations = g.attack_iterations > 0 ? g.attack_iterations : config.attacker.config.iterations;
    for (const std::string& model : g.models) {
      for (const std::string& mechanisms : g.mechanisms) {
        for (const std::string& victim : g.victims) {
          for (const std::string& attack : g.attacks) {
            for (int64_t batch : g.batch_sizes) {
              for (int64_t seed : g.seeds) {
                for (const std::string& defense : g.defenses) {
                  AttackCell cell{model, CanonicalMechanisms(config, mechanisms), CanonicalVictim(victim),
                                  CanonicalAttack(config, attack), CanonicalDefense(defense),
                                  batch, seed, iterations};
                  if (seen.insert(cell.Key()).second) cells.push_back(std::move(cell));
                }
              }
            }
          }
        }
      }
    }
  }
  return cells;
}

std::vector<TrainingJob> TrainingJobsFor(const std::vector<AttackCell>& cells) {
  std::vector<TrainingJob> jobs;
  std::set<std::string> seen;
  for (const AttackCell& c : cells) {
    if (!c.trained()) continue;
    TrainingJob job = c.Training();
    if (seen.insert(job.Key()).second) jobs.push_back(std::move(job));
  }
  return jobs;
}

}  // namespace biofed
