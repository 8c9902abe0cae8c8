// The result of one attacked update, scored against the true batch: which
// attacker (its compact name, attack/attack_settings.h), what it knew, the
// victim update's shape, the image-space scores and the matching objective.
// Declared once (VisitFields): the SQL columns of the studies, their INSERTs,
// the reports' reading and the commands' JSON all derive from this list.
// Torch-free plain data; thread-safe.
#ifndef BIOFED_EXPERIMENT_SCORED_ATTACK_H_
#define BIOFED_EXPERIMENT_SCORED_ATTACK_H_

#include <cstdint>
#include <limits>
#include <string>
#include <type_traits>

#include "common/record_fields.h"

namespace biofed {

struct ScoredAttack {
  std::string attack;  // AttackSpecName: kind and settings beyond the study's
  int64_t iterations = 0;
  bool labels_known = false;
  bool fl_factors_known = false;
  bool batch_size_known = true;
  bool local_hyperparameters_known = true;
  bool batchnorm_train_mode = true;  // the victim client's BatchNorm mode
  int64_t batch_size = 0, local_steps = 0;
  double mse = 0, psnr = 0, ssim = 0, relative_error_percent = 0;
  double best_psnr = 0, label_accuracy = 0;
  double recovered_fraction = 0;  // of the true images, reconstructed at >= 30 dB (attack/metrics.h)
  // The paper's metric: 100 (1 - cos) of the final match (attack/attack.h);
  // NaN where not recorded (rows older than the column).
  double gradient_error_percent = std::numeric_limits<double>::quiet_NaN();
  // What the client sent (client/update_share.h's name: pseudo_gradient,
  // gradient or raw); empty in rows older than the column.
  std::string share;
  std::string objective_name;
  double objective = 0, seconds = 0;
  Blob png;  // truth above reconstruction
};

template <typename Record, typename Visitor,
          std::enable_if_t<std::is_same_v<std::decay_t<Record>, ScoredAttack>, int> = 0>
void VisitFields(Record& r, Visitor&& v) {
  v("attack", r.attack);
  v("iterations", r.iterations);
  v("labels", r.labels_known, BoolText{"known", "inferred"});
  v("fl_factors_known", r.fl_factors_known);
  v("batch_size_known", r.batch_size_known);
  v("local_hyperparameters_known", r.local_hyperparameters_known);
  v("batchnorm_mode", r.batchnorm_train_mode, BoolText{"train", "eval"});
  v("batch_size", r.batch_size);
  v("local_steps", r.local_steps);
  v("mse", r.mse);
  v("psnr", r.psnr);
  v("ssim", r.ssim);
  v("relative_error_percent", r.relative_error_percent);
  v("best_psnr", r.best_psnr);
  v("label_accuracy", r.label_accuracy);
  v("objective_name", r.objective_name);
  v("objective", r.objective);
  v("seconds", r.seconds);
  v("png", r.png);
  v("recovered_fraction", r.recovered_fraction);  // columns added after the first studies come last
  v("gradient_error_percent", r.gradient_error_percent);
  v("share", r.share);
}

// An attacked update of a running federation: the round and client it came
// from, then the scored attack.
struct ObservedAttack {
  int64_t round = 0;
  std::string client_id;
  ScoredAttack scored;
};

template <typename Record, typename Visitor,
          std::enable_if_t<std::is_same_v<std::decay_t<Record>, ObservedAttack>, int> = 0>
void VisitFields(Record& r, Visitor&& v) {
  v("round", r.round);
  v("client_id", r.client_id);
  VisitFields(r.scored, v);
}

}  // namespace biofed

#endif  // BIOFED_EXPERIMENT_SCORED_ATTACK_H_
