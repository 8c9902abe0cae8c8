#include "client/learning_speed.h"

#include <cstddef>
#include <numeric>

namespace biofed {

LearningSpeed ComputeLearningSpeed(const std::vector<double>& accuracy, int64_t patience) {
  LearningSpeed result;
  if (accuracy.empty()) return result;
  size_t best = 0;
  for (size_t e = 1; e < accuracy.size(); ++e) {
    if (accuracy[e] > accuracy[best]) {
      best = e;
    } else if (static_cast<int64_t>(e - best) >= patience) {
      result.patience_exhausted = true;
      break;
    }
  }
  result.epoch = static_cast<int64_t>(best) + 1;
  result.accuracy = accuracy[best];
  return result;
}

double AccuracyCurveArea(const std::vector<double>& accuracy) {
  if (accuracy.empty()) return 0.0;
  return std::accumulate(accuracy.begin(), accuracy.end(), 0.0) / accuracy.size();
}

}  // namespace biofed
