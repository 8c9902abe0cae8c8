// The rows of a sweep study: one per finished attack cell (the cell's axes,
// the scored attack, the norm of what the attacker saw), one per finished
// training federation (its accuracy curve and trained model) and one per
// invocation of `biofed sweep` on it. Declared once
// (VisitFields): the study's tables, INSERTs and the sweep report's reading
// derive from these lists. Torch-free plain data; thread-safe.
#ifndef BIOFED_EXPERIMENT_SWEEP_ROWS_H_
#define BIOFED_EXPERIMENT_SWEEP_ROWS_H_

#include <cstdint>
#include <limits>
#include <string>
#include <type_traits>

#include "common/record_fields.h"
#include "experiment/scored_attack.h"

namespace biofed {

// The attack, batch size and iterations of the cell are those of `scored`.
struct CellRow {
  std::string key;  // AttackCell::Key(): what marks the cell done
  std::string model, mechanisms, victim, defense;
  int64_t seed = 0;
  ScoredAttack scored;
  double update_norm = 0;  // L2 norm of the parameter entries the attacker saw
  // DP-SGD's (epsilon, delta) of the attacked release alone: the victim's
  // steps on its batch, every example of it in each (sampling rate 1).
  // epsilon = +infinity (JSON null) without DP-SGD: no guarantee.
  double dp_epsilon = 0, dp_delta = 0;
  std::string code_version;
  // What the update held of WR (sweep/update_parts.h): the fraction of the
  // weights its client reset, the update's L2 norm at those positions and
  // elsewhere; NaN for an aggregate and in rows older than the columns.
  double reset_fraction = std::numeric_limits<double>::quiet_NaN();
  double reset_norm = std::numeric_limits<double>::quiet_NaN();
  double gradient_part_norm = std::numeric_limits<double>::quiet_NaN();
  // The true batch's indices in the dataset's test split, step order,
  // comma-separated (client k's batch the k-th run of an aggregate's), so a
  // result can be traced to its images; "" in older rows.
  std::string test_indices;
};

template <typename Record, typename Visitor,
          std::enable_if_t<std::is_same_v<std::decay_t<Record>, CellRow>, int> = 0>
void VisitFields(Record& r, Visitor&& v) {
  v("key", r.key);
  v("model", r.model);
  v("mechanisms", r.mechanisms);
  v("victim", r.victim);
  v("defense", r.defense);
  v("seed", r.seed);
  VisitFields(r.scored, v);
  v("update_norm", r.update_norm);
  v("code_version", r.code_version);
  v("dp_epsilon", r.dp_epsilon);  // columns added after the first studies come last
  v("dp_delta", r.dp_delta);
  v("reset_fraction", r.reset_fraction);
  v("reset_norm", r.reset_norm);
  v("gradient_part_norm", r.gradient_part_norm);
  v("test_indices", r.test_indices);
}

struct TrainingRow {
  std::string key;  // TrainingJob::Key()
  std::string model, mechanisms, defense;
  int64_t seed = 0;
  int64_t rounds = 0;
  double test_accuracy = 0, test_loss = 0, seconds = 0;
  // DP-SGD's (epsilon, delta) of the whole training for the client with the
  // smallest partition (one step a round, sampling rate batch / partition);
  // epsilon = +infinity (JSON null) without DP-SGD.
  double dp_epsilon = 0, dp_delta = 0;
  std::string accuracy_curve_json;  // [[round, accuracy], ...]
  std::string code_version;
  Blob model_state;  // EncodeCheckpoint of the trained model
  // "mid" (train_rounds rounds; rows older than the column) or "converged"
  // (until the plateau rule or its round limit: `plateaued` says which).
  std::string state = "mid";
  bool plateaued = false;
};

template <typename Record, typename Visitor,
          std::enable_if_t<std::is_same_v<std::decay_t<Record>, TrainingRow>, int> = 0>
void VisitFields(Record& r, Visitor&& v) {
  v("key", r.key);
  v("model", r.model);
  v("mechanisms", r.mechanisms);
  v("defense", r.defense);
  v("seed", r.seed);
  v("rounds", r.rounds);
  v("test_accuracy", r.test_accuracy);
  v("test_loss", r.test_loss);
  v("seconds", r.seconds);
  v("accuracy_curve_json", r.accuracy_curve_json);
  v("code_version", r.code_version);
  v("model_state", r.model_state);
  v("dp_epsilon", r.dp_epsilon);  // columns added after the first studies come last
  v("dp_delta", r.dp_delta);
  v("state", r.state);
  v("plateaued", r.plateaued, BoolText{"yes", "no"});
}

// One run of `biofed sweep` on a study: when, by which code, with which
// config (SweepConfigJson) and on which shard of its plan.
struct InvocationRow {
  std::string started_utc;  // "2026-12-01T01:02:03Z"
  std::string code_version;
  std::string config_json;
  std::string shard;  // "K/N" ("1/1": the whole plan; "" in studies made before shards)
};

template <typename Record, typename Visitor,
          std::enable_if_t<std::is_same_v<std::decay_t<Record>, InvocationRow>, int> = 0>
void VisitFields(Record& r, Visitor&& v) {
  v("started_utc", r.started_utc);
  v("code_version", r.code_version);
  v("config_json", r.config_json);
  v("shard", r.shard);
}

}  // namespace biofed

#endif  // BIOFED_EXPERIMENT_SWEEP_ROWS_H_
