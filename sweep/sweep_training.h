// The federation behind a sweep's "trained" victims and its accuracy cost:
// K clients (IID partitions) each send one FedSGD update per round, with
// their own biomod state and the job's defense applied to the update, and
// the server takes the example-weighted mean. The same client code
// (LocalTrainer) and aggregation (Aggregate) as `biofed server` and
// `biofed client`, run in process without the wire, so a sweep needs no
// gRPC round trips. Deterministic given the job; thread-safe for distinct
// jobs.
#ifndef BIOFED_SWEEP_SWEEP_TRAINING_H_
#define BIOFED_SWEEP_SWEEP_TRAINING_H_

#include <atomic>
#include <cstdint>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "client/biomod_options.h"
#include "data/dataset.h"
#include "sweep/sweep_cells.h"
#include "sweep/sweep_config.h"
#include "wire/host_tensor.h"

namespace biofed {

struct TrainedFederation {
  TensorTable model;
  std::vector<std::pair<int64_t, double>> accuracy_curve;  // (round, test accuracy), every eval_every rounds and the last
  double test_accuracy = 0, test_loss = 0;
  // DP-SGD's epsilon at kSweepDpDelta for the client with the smallest
  // partition (+infinity without DP-SGD); see TrainingRow.
  double dp_epsilon = 0;
  int64_t rounds = 0;       // rounds run
  bool plateaued = false;   // a converged job that met the plateau rule (not only converge_max_rounds)
};

// The plateau rule of a converged job on its evaluations so far: more than
// `evaluations` of them, and the best of the last `evaluations` exceeds the
// best before them by no more than `gain`.
bool Plateaued(const std::vector<std::pair<int64_t, double>>& curve, int64_t evaluations, double gain);

// The biomod options of a canonical mechanisms name ("none", "fl+wr", ...)
// under the sweep's parameters.
absl::StatusOr<BiomodOptions> SweepBiomod(const SweepConfig& config, const std::string& mechanisms);

// Trains the job's federation: train_rounds rounds, or for a converged job
// blocks of eval_every rounds until Plateaued or converge_max_rounds.
// CANCELLED when `stop` becomes true between rounds.
absl::StatusOr<TrainedFederation> TrainFederation(const SweepConfig& config, const TrainingJob& job,
                                                  const DatasetSplits& data, const std::atomic<bool>& stop);

}  // namespace biofed

#endif  // BIOFED_SWEEP_SWEEP_TRAINING_H_
