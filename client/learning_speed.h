// The paper's learning-speed measure and the area under the accuracy curve.
// Pure functions; thread-safe.
#ifndef BIOFED_CLIENT_LEARNING_SPEED_H_
#define BIOFED_CLIENT_LEARNING_SPEED_H_

#include <cstdint>
#include <vector>

namespace biofed {

struct LearningSpeed {
  // 1-based epoch after which accuracy did not improve for `patience`
  // consecutive epochs (the early-stopping epoch); when the run ended before
  // the patience ran out, the epoch of the best accuracy.
  int64_t epoch = 0;
  double accuracy = 0.0;  // accuracy at that epoch
  bool patience_exhausted = false;
};

// `accuracy[e]` is the test accuracy after epoch e + 1. "Improve" means
// strictly greater than the best so far.
LearningSpeed ComputeLearningSpeed(const std::vector<double>& accuracy, int64_t patience = 5);

// Area under the accuracy-per-epoch curve, normalised by the number of
// epochs (the mean accuracy; in [0, 1]). 0 for an empty curve.
double AccuracyCurveArea(const std::vector<double>& accuracy);

}  // namespace biofed

#endif  // BIOFED_CLIENT_LEARNING_SPEED_H_
