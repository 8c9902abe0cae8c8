// A TrainingStep captured once as a CUDA graph and replayed: one launch per
// step instead of a few hundred, for models whose steps are too small to
// keep the GPU busy between launches. Capture trains one real step on the
// batch it is given (cuBLAS, cuDNN, the allocator and the optimizer settle),
// then records the next step on a side stream over fixed input buffers
// without running it; Replay() copies a batch into them and launches the graph, with
// the results of an eager step (WR keeps its pass counter on the device for
// this; tests/gpu/cuda_test.cc). SGD only: Adam's step count lives on the
// host and would be frozen. Built only with BIOFED_WITH_CUDA (StepRunner,
// step_runner.h, is the interface for every build). Not thread-safe.
#ifndef BIOFED_CLIENT_GRAPHED_TRAINING_STEP_H_
#define BIOFED_CLIENT_GRAPHED_TRAINING_STEP_H_

#include <memory>

#include <ATen/cuda/CUDAGraph.h>

#include "absl/status/statusor.h"
#include "client/training_step.h"

namespace biofed {

class GraphedTrainingStep {
 public:
  // Trains `step` (on CUDA, SGD; it must outlive the result) on (images,
  // labels), whose shape the graph keeps, and returns that step's output in
  // `first`. INVALID_ARGUMENT for a step that cannot be captured, INTERNAL
  // when CUDA refuses the capture.
  static absl::StatusOr<std::unique_ptr<GraphedTrainingStep>> Capture(TrainingStep& step,
                                                                      const torch::Tensor& images,
                                                                      const torch::Tensor& labels,
                                                                      StepOutput* first);

  // True when a batch of this shape can be replayed.
  bool Fits(const torch::Tensor& images, const torch::Tensor& labels) const;

  // One training step on (images, labels), shaped like the captured batch.
  // The outputs are the graph's buffers: read them before the next Replay.
  StepOutput Replay(const torch::Tensor& images, const torch::Tensor& labels);

 private:
  GraphedTrainingStep() = default;

  at::cuda::CUDAGraph graph_;
  torch::Tensor images_, labels_;
  StepOutput output_;
};

}  // namespace biofed

#endif  // BIOFED_CLIENT_GRAPHED_TRAINING_STEP_H_
