#include "client/step_runner.h"

#ifdef BIOFED_WITH_CUDA
#include "client/graphed_training_step.h"
#endif

namespace biofed {

#ifdef BIOFED_WITH_CUDA
StepRunner::StepRunner(TrainingStep& step)
    : step_(step),
      // DP-SGD's per-example passes and host-drawn noise are not captured,
      // nor a step whose WR depends on its index.
      graphs_(step.model().device().is_cuda() && step.optimizer_options().name == "sgd" && !step.dp_sgd() &&
              !step.rejuvenation_varies_by_step()) {}
#else
StepRunner::StepRunner(TrainingStep& step) : step_(step) {}
class GraphedTrainingStep {};
#endif

StepRunner::~StepRunner() = default;

StepOutput StepRunner::Step(const torch::Tensor& images, const torch::Tensor& labels) {
#ifdef BIOFED_WITH_CUDA
  if (graphs_) {
    if (graph_ != nullptr && graph_->Fits(images, labels)) return graph_->Replay(images, labels);
    if (graph_ == nullptr) {
      StepOutput first;
      auto captured = GraphedTrainingStep::Capture(step_, images, labels, &first);
      TORCH_CHECK(captured.ok(), captured.status().message());
      graph_ = std::move(*captured);
      return first;
    }
  }
#endif
  return step_.Step(images, labels);
}

}  // namespace biofed
