// Runs the steps of a training loop: replayed as a CUDA graph where that
// applies (a CUDA model in a BIOFED_WITH_CUDA build, SGD, no DP-SGD, a batch of the
// shape captured), eagerly otherwise, with the same results either way
// (tests/gpu/cuda_test.cc). On a GPU a step of the small models here is a few
// hundred kernel launches of a few microseconds each, so the launches, not
// the arithmetic, set its time; a graph is one launch. The first batch of a
// shape trains eagerly while the graph is captured; batches of other shapes
// (a last, partial batch) run eagerly. Not thread-safe; one per loop.
#ifndef BIOFED_CLIENT_STEP_RUNNER_H_
#define BIOFED_CLIENT_STEP_RUNNER_H_

#include <memory>

#include "client/training_step.h"

namespace biofed {

class GraphedTrainingStep;

class StepRunner {
 public:
  // `step` must outlive the runner.
  explicit StepRunner(TrainingStep& step);
  ~StepRunner();

  // One training step on (images, labels), on the step's device. The
  // outputs may be buffers of the graph: use them before the next Step().
  StepOutput Step(const torch::Tensor& images, const torch::Tensor& labels);

  // True when this runner replays CUDA graphs.
  bool graphs() const { return graphs_; }

 private:
  TrainingStep& step_;
  bool graphs_ = false;
  std::unique_ptr<GraphedTrainingStep> graph_;
};

}  // namespace biofed

#endif  // BIOFED_CLIENT_STEP_RUNNER_H_
