#include "sweep/cell_cost.h"

#include <algorithm>
#include <string>

#include "attack/attack_settings.h"

namespace biofed {
namespace {

// Seconds per Inverting Gradients iteration on one LibTorch thread at batch
// 1, and the relative growth per further image: BM_InvertingGradients with
// BIOFED_BENCH_THREADS=1, best of 3 (docs/benchmarks.md); ResNet32 and 56
// scaled from ResNet20 by depth. Only the ratios matter.
struct IterationCost {
  double batch_one_seconds;
  double per_extra_image;
};

IterationCost CostPerIteration(const std::string& model) {
  if (model == "mlp") return {0.0064, 0.065};
  if (model == "alexnet") return {0.052, 0.2};
  if (model == "resnet20") return {0.029, 0.57};
  if (model == "resnet32") return {0.047, 0.57};
  return {0.082, 0.57};  // resnet56
}

double IterationSeconds(const std::string& model, int64_t batch_size) {
  const IterationCost cost = CostPerIteration(model);
  return cost.batch_one_seconds * (1 + cost.per_extra_image * static_cast<double>(batch_size - 1));
}

constexpr double kTrainingStepPerAttackIteration = 0.8;

}  // namespace

double ExpectedCellSeconds(const AttackCell& cell) {
  // An aggregate's attack reconstructs every client's batch.
  double per_iteration = IterationSeconds(cell.model, cell.batch_size * cell.Victim().clients);
  // The cell's own settings (restarts) come over the defaults; an
  // unparsable name is refused before any cell runs (ValidateSweepConfig),
  // so it only needs some place in the order.
  auto attack = ParseAttackSpec(cell.attack, AttackSpec{});
  if (!attack.ok()) return per_iteration * static_cast<double>(cell.iterations);
  if (attack->config.kind == AttackKind::kDlg) per_iteration *= 20;
  if (IsClosedForm(attack->config.kind)) per_iteration = 0;
  const int64_t restarts = std::max<int64_t>(1, attack->config.restarts);
  return per_iteration * static_cast<double>(cell.iterations) * static_cast<double>(restarts);
}

double ExpectedTrainingSeconds(const SweepConfig& config, const TrainingJob& job) {
  // A converged job stops at its plateau, somewhere under its round limit: half of it, as a guess.
  const int64_t rounds = job.converged ? config.converge_max_rounds / 2 : config.train_rounds;
  return static_cast<double>(rounds * config.train_clients) * kTrainingStepPerAttackIteration *
         IterationSeconds(job.model, config.train_batch);
}

std::vector<AttackCell> LongestFirst(std::vector<AttackCell> cells) {
  std::stable_sort(cells.begin(), cells.end(), [](const AttackCell& a, const AttackCell& b) {
    return ExpectedCellSeconds(a) > ExpectedCellSeconds(b);
  });
  return cells;
}

}  // namespace biofed
