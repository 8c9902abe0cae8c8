#include "experiment/attack_and_score.h"

#include <torch/torch.h>

#include "attack/image_grid.h"
#include "attack/victim.h"
#include "common/status_macros.h"
#include "common/torch_status.h"

namespace biofed {
namespace {

std::vector<int64_t> LabelList(const at::Tensor& labels) {
  return {labels.data_ptr<int64_t>(), labels.data_ptr<int64_t>() + labels.numel()};
}

ScoredAttack Scored(const AttackRequest& request, const ThreatModel& threat, const UpdateRecord& record,
                    const AttackResult& result, const BatchScore& score) {
  ScoredAttack s;
  s.attack = request.name;
  s.iterations = result.iterations;
  s.labels_known = threat.labels_known;
  s.fl_factors_known = threat.fuzzy_factors_known;
  s.batch_size_known = threat.batch_size_known;
  s.local_hyperparameters_known = threat.local_hyperparameters_known;
  s.batchnorm_train_mode = record.batchnorm_train_mode;
  s.batch_size = record.batch_size;
  s.local_steps = record.local_steps;
  s.share = SharedKindName(record.kind);
  s.mse = score.mean_mse;
  s.psnr = score.mean_psnr;
  s.ssim = score.mean_ssim;
  s.relative_error_percent = score.mean_relative_error_percent;
  s.best_psnr = score.best_psnr;
  s.label_accuracy = score.label_accuracy;
  s.recovered_fraction = score.recovered_fraction;
  s.objective_name = result.objective_name;
  s.objective = result.objective;
  s.gradient_error_percent = result.gradient_error_percent;
  s.seconds = result.seconds;
  return s;
}

}  // namespace

absl::StatusOr<AttackOutcome> AttackAndScore(const AttackRequest& request, const UpdateRecord& record,
                                             const AuditRecord& audit, const at::Device& device) {
  AttackOutcome out;
  out.threat = request.spec.threat;
  // Knowing the FL factors of a client that ran without FL, or of a raw
  // share (taken before FL), is knowing nothing.
  out.threat.fuzzy_factors_known =
      out.threat.fuzzy_factors_known && audit.tau > 0 && record.kind != SharedKind::kRaw;
  const std::vector<int64_t> true_labels = LabelList(audit.labels);
  AttackerKnowledge knowledge;
  if (out.threat.labels_known) knowledge.labels = true_labels;
  if (out.threat.fuzzy_factors_known) {
    knowledge.factors = ClientFuzzyFactors(record.spec, audit.tau, audit.client_seed);
  }
  if (request.spec.config.mask == UpdateMask::kOracle) {
    BIOFED_ASSIGN_OR_RETURN(knowledge.reset_mask, ClientResetMask(record, audit));
  }
  AttackConfig config = request.spec.config;
  config.seed = request.seed;
  config.report_every = request.report_every;
  BIOFED_ASSIGN_OR_RETURN(out.result, RunAttack(record, knowledge, out.threat, config, device, request.progress));
  BIOFED_RETURN_IF_ERROR(CallTorch("scoring", [&] {
    out.truth = Denormalize(audit.images, record.norm);
    out.reconstruction = Denormalize(out.result.images, record.norm);
    out.score = ScoreReconstruction(out.reconstruction, out.truth, out.result.labels, true_labels);
  }));
  out.scored = Scored(request, out.threat, record, out.result, out.score);
  auto png = ComparisonGridPng(out.truth, ReconstructionsInTruthOrder(out.score, out.reconstruction, out.truth));
  if (png.ok()) out.scored.png.bytes = std::move(*png);
  return out;
}

}  // namespace biofed
