#include "sweep/sweep_cells.h"

#include <set>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "attack/attack.h"
#include "client/biomod_options.h"
#include "sweep/defense.h"

namespace biofed {
namespace {

std::string CanonicalMechanisms(const std::string& list) {
  auto b = ParseBiomod(list);
  return b.ok() ? BiomodName(*b) : list;
}

std::string CanonicalDefense(const std::string& spec) {
  auto d = ParseDefense(spec);
  return d.ok() ? DefenseName(*d) : spec;
}

std::string CanonicalAttack(const std::string& name) {
  auto a = ParseSweepAttack(name);
  return a.ok() ? SweepAttackName(*a) : name;
}

}  // namespace

absl::StatusOr<SweepAttack> ParseSweepAttack(const std::string& name) {
  const std::vector<std::string> parts = absl::StrSplit(name, absl::MaxSplits('+', 1));
  SweepAttack attack;
  auto kind = ParseAttackKind(parts[0]);
  if (!kind.ok()) return kind.status();
  if (*kind == AttackKind::kFedAvg) {
    return absl::InvalidArgumentError("the sweep's clients send one FedSGD step; the fedavg attack does not apply");
  }
  attack.kind = AttackKindName(*kind);
  if (parts.size() == 2) {
    constexpr char kPrefix[] = "ignore-largest:";
    if (!absl::StartsWith(parts[1], kPrefix) ||
        !absl::SimpleAtod(parts[1].substr(sizeof(kPrefix) - 1), &attack.ignore_largest_fraction) ||
        !(attack.ignore_largest_fraction > 0 && attack.ignore_largest_fraction < 1)) {
      return absl::InvalidArgumentError(absl::StrCat("attack '", name, "': expected ATTACK or ATTACK+ignore-largest:Q with 0 < Q < 1"));
    }
  }
  return attack;
}

std::string SweepAttackName(const SweepAttack& attack) {
  if (attack.ignore_largest_fraction <= 0) return attack.kind;
  return absl::StrFormat("%s+ignore-largest:%g", attack.kind, attack.ignore_largest_fraction);
}

std::string TrainingJob::Key() const {
  return absl::StrCat("model=", model, "|mechanisms=", mechanisms, "|defense=", defense, "|seed=", seed);
}

std::string AttackCell::Key() const {
  return absl::StrCat("model=", model, "|mechanisms=", mechanisms, "|victim=", victim, "|attack=", attack,
                      "|batch=", batch_size, "|seed=", seed, "|defense=", defense, "|iterations=", iterations);
}

std::vector<AttackCell> ExpandCells(const SweepConfig& config) {
  std::vector<AttackCell> cells;
  std::set<std::string> seen;
  for (const SweepGrid& g : config.grids) {
    const int64_t iterations = g.attack_iterations > 0 ? g.attack_iterations : config.attack_iterations;
    for (const std::string& model : g.models) {
      for (const std::string& mechanisms : g.mechanisms) {
        for (const std::string& victim : g.victims) {
          for (const std::string& attack : g.attacks) {
            for (int64_t batch : g.batch_sizes) {
              for (int64_t seed : g.seeds) {
                for (const std::string& defense : g.defenses) {
                  AttackCell cell{model, CanonicalMechanisms(mechanisms), victim, CanonicalAttack(attack),
                                  CanonicalDefense(defense),
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
