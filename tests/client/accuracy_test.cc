// Long checks (CTest label `long`): one epoch of the MLP on the real
// Fashion-MNIST reaches the accuracy the foundation issue asks for.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "client/centralized_training.h"
#include "common/runtime.h"
#include "tests/testing/status_matchers.h"

namespace biofed {
namespace {

double OneEpochAccuracy(double lr) {
  ConfigureThreads(0);
  auto data = LoadDataset("fashion-mnist", "");
  EXPECT_THAT(data, biofed::testing::IsOk());
  TrainConfig config;
  config.optimizer.lr = lr;
  config.batch_size = 100;
  config.epochs = 1;
  auto result = RunCentralizedTraining(config, *data, torch::Device(torch::kCPU));
  EXPECT_THAT(result, biofed::testing::IsOk());
  return result->epochs.back().test_accuracy;
}

TEST(AccuracyTest, MlpOneEpochLr001ReachesEightyPercent) { EXPECT_GE(OneEpochAccuracy(0.01), 0.80); }

TEST(AccuracyTest, MlpOneEpochLr01ReachesEightyFourPercent) { EXPECT_GE(OneEpochAccuracy(0.1), 0.84); }

}  // namespace
}  // namespace biofed
