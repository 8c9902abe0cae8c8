// Centralised training (`biofed train`): epochs of TrainingStep over a
// seeded shuffle of the training split, test accuracy after every epoch, and
// per-layer insight (WR reset fractions, weight distributions).
// Not thread-safe; uses LibTorch's intra-op threads.
#ifndef BIOFED_CLIENT_CENTRALIZED_TRAINING_H_
#define BIOFED_CLIENT_CENTRALIZED_TRAINING_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "client/biomod_options.h"
#include "client/learning_speed.h"
#include "client/training_step.h"
#include "data/dataset.h"
#include "models/model_spec.h"

namespace biofed {

struct TrainConfig {
  Architecture architecture = Architecture::kMlp;
  OptimizerOptions optimizer;
  BiomodOptions biomod;
  int64_t batch_size = 100;
  int64_t epochs = 1;
  uint64_t seed = 0;
  int64_t train_subset = 0;  // first N training samples; 0 = all
  int64_t histogram_bins = 40;
};

struct LayerInsight {
  std::string name;
  double reset_fraction = 0.0;  // mean fraction reset per step (WR), 0 without WR
  double mean = 0.0, std = 0.0, max_abs = 0.0;
  std::vector<int64_t> histogram;  // counts over [-max_abs, max_abs]
};

struct EpochRecord {
  int64_t epoch = 0;
  double train_loss = 0.0, train_accuracy = 0.0;
  double test_loss = 0.0, test_accuracy = 0.0;
  double seconds = 0.0;
  std::vector<LayerInsight> layers;
};

struct TrainResult {
  std::vector<EpochRecord> epochs;
  LearningSpeed speed;
  double accuracy_auc = 0.0;
  int64_t parameter_count = 0;
};

// Called after each step with (epoch, step, steps per epoch).
using StepCallback = std::function<void(int64_t, int64_t, int64_t)>;

absl::StatusOr<TrainResult> RunCentralizedTraining(const TrainConfig& config,
                                                   const DatasetSplits& data,
                                                   const torch::Device& device,
                                                   const StepCallback& on_step = nullptr);

// Mean loss and accuracy of `model` on `data` in eval mode.
std::pair<double, double> Evaluate(const Model& model, const Dataset& data,
                                   const Normalization& norm, const torch::Device& device,
                                   int64_t batch_size = 1000);

// A permutation of [0, n) for epoch `epoch`, a pure function of the seed.
std::vector<int64_t> EpochOrder(int64_t n, uint64_t seed, int64_t epoch);

}  // namespace biofed

#endif  // BIOFED_CLIENT_CENTRALIZED_TRAINING_H_
