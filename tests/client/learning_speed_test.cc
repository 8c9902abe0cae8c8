#include "client/learning_speed.h"

#include <gtest/gtest.h>

namespace biofed {
namespace {

TEST(LearningSpeedTest, StopsAfterFiveEpochsWithoutImprovement) {
  // Best at epoch 3 (0.80); epochs 4-8 do not beat it: patience runs out.
  const std::vector<double> acc = {0.5, 0.7, 0.8, 0.79, 0.8, 0.78, 0.75, 0.8, 0.9};
  const LearningSpeed s = ComputeLearningSpeed(acc);
  EXPECT_EQ(s.epoch, 3);
  EXPECT_DOUBLE_EQ(s.accuracy, 0.8);
  EXPECT_TRUE(s.patience_exhausted);
}

TEST(LearningSpeedTest, ReportsTheBestEpochWhenPatienceIsNotExhausted) {
  const LearningSpeed s = ComputeLearningSpeed({0.5, 0.6, 0.55, 0.7, 0.65});
  EXPECT_EQ(s.epoch, 4);
  EXPECT_DOUBLE_EQ(s.accuracy, 0.7);
  EXPECT_FALSE(s.patience_exhausted);
}

TEST(LearningSpeedTest, AreaIsTheMeanAccuracy) {
  EXPECT_DOUBLE_EQ(AccuracyCurveArea({0.5, 0.7, 0.9}), 0.7);
  EXPECT_DOUBLE_EQ(AccuracyCurveArea({}), 0.0);
}

}  // namespace
}  // namespace biofed
