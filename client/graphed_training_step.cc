#include "client/graphed_training_step.h"

#include <ATen/cuda/CUDAEvent.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>

#include "absl/strings/str_cat.h"
#include "common/torch_status.h"

namespace biofed {
namespace {

// `waiter` does not run ahead of the work enqueued so far on `producer`.
void Wait(const c10::cuda::CUDAStream& waiter, const c10::cuda::CUDAStream& producer) {
  at::cuda::CUDAEvent event;
  event.record(producer);
  event.block(waiter);
}

}  // namespace

absl::StatusOr<std::unique_ptr<GraphedTrainingStep>> GraphedTrainingStep::Capture(
    TrainingStep& step, const torch::Tensor& images, const torch::Tensor& labels, StepOutput* first) {
  if (!step.model().device().is_cuda()) {
    return absl::InvalidArgumentError("a CUDA graph needs a model on a CUDA device");
  }
  if (step.optimizer_options().name != "sgd") {
    return absl::InvalidArgumentError(absl::StrCat(
        "a CUDA graph replays SGD steps only; ", step.optimizer_options().name, " keeps host state"));
  }
  std::unique_ptr<GraphedTrainingStep> graphed(new GraphedTrainingStep());
  const absl::Status captured = CallTorch("capturing a training step as a CUDA graph", [&] {
    const c10::cuda::CUDAGuard device_guard(step.model().device());
    graphed->images_ = images.clone();
    graphed->labels_ = labels.clone();
    *first = step.Step(graphed->images_, graphed->labels_);  // the real step, eagerly
    const c10::cuda::CUDAStream caller = c10::cuda::getCurrentCUDAStream();
    const c10::cuda::CUDAStream side = c10::cuda::getStreamFromPool();
    Wait(side, caller);
    {
      // Captured work may not share a stream with uncaptured work.
      const c10::cuda::CUDAStreamGuard stream_guard(side);
      graphed->graph_.capture_begin();
      graphed->output_ = step.Step(graphed->images_, graphed->labels_);
      graphed->graph_.capture_end();
    }
    Wait(caller, side);
  });
  if (!captured.ok()) return absl::InternalError(captured.message());
  return graphed;
}

bool GraphedTrainingStep::Fits(const torch::Tensor& images, const torch::Tensor& labels) const {
  return images.sizes() == images_.sizes() && labels.sizes() == labels_.sizes() &&
         images.device() == images_.device() && images.scalar_type() == images_.scalar_type();
}

StepOutput GraphedTrainingStep::Replay(const torch::Tensor& images, const torch::Tensor& labels) {
  images_.copy_(images);
  labels_.copy_(labels);
  graph_.replay();
  return output_;
}

}  // namespace biofed
