#include "simulate/attack_scoring.h"

#include <torch/torch.h>

#include "attack/attack.h"
#include "attack/image_grid.h"
#include "attack/metrics.h"
#include "attack/victim.h"
#include "common/status_macros.h"
#include "common/torch_status.h"

namespace biofed {

absl::StatusOr<AttackRow> AttackAndScore(const AuditAttackOptions& c, const UpdateRecord& record, const AuditRecord& audit,
                                    const torch::Device& device) {
  BIOFED_ASSIGN_OR_RETURN(AttackKind kind, ParseAttackKind(c.attack));
  AttackConfig config;
  config.kind = kind;
  config.iterations = c.iterations;
  config.lr = c.lr;
  config.tv_weight = c.tv_weight;
  config.restarts = c.restarts;
  config.ignore_largest_fraction = c.ignore_largest_fraction;
  config.seed = c.seed;
  ThreatModel threat;
  threat.labels_known = c.labels == "known";
  threat.fuzzy_factors_known = c.fl_factors_known && audit.tau > 0;
  AttackerKnowledge knowledge;
  std::vector<int64_t> true_labels(audit.labels.data_ptr<int64_t>(),
                                   audit.labels.data_ptr<int64_t>() + audit.labels.numel());
  if (threat.labels_known) knowledge.labels = true_labels;
  if (threat.fuzzy_factors_known) knowledge.factors = ClientFuzzyFactors(record.spec, audit.tau, audit.client_seed);
  BIOFED_ASSIGN_OR_RETURN(AttackResult result, RunAttack(record, knowledge, threat, config, device));
  return CallTorch("scoring", [&]() -> absl::StatusOr<AttackRow> {
    const torch::Tensor truth = Denormalize(audit.images, record.norm);
    const torch::Tensor reconstruction = Denormalize(result.images, record.norm);
    const BatchScore score = ScoreReconstruction(reconstruction, truth, result.labels, true_labels);
    AttackRow row;
    row.round = record.round;
    row.client_id = record.client_id;
    row.attack = AttackKindName(kind);
    row.iterations = result.iterations;
    row.labels = threat.labels_known ? "known" : "inferred";
    row.fl_factors_known = threat.fuzzy_factors_known;
    row.batch_size_known = threat.batch_size_known;
    row.local_hyperparameters_known = threat.local_hyperparameters_known;
    row.batchnorm_mode = record.batchnorm_train_mode ? "train" : "eval";
    row.batch_size = record.batch_size;
    row.local_steps = record.local_steps;
    row.mse = score.mean_mse;
    row.psnr = score.mean_psnr;
    row.ssim = score.mean_ssim;
    row.relative_error_percent = score.mean_relative_error_percent;
    row.best_psnr = score.best_psnr;
    row.label_accuracy = score.label_accuracy;
    row.objective_name = result.objective_name;
    row.objective = result.objective;
    row.seconds = result.seconds;
    auto png = ComparisonGridPng(truth, ReconstructionsInTruthOrder(score, reconstruction, truth));
    if (png.ok()) row.png = std::move(*png);
    return row;
  });
}

}  // namespace biofed
