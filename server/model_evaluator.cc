#include "server/model_evaluator.h"

#include <mutex>

#include <torch/torch.h>

#include "client/centralized_training.h"
#include "common/runtime.h"
#include "common/status_macros.h"
#include "common/torch_status.h"
#include "models/model_state.h"
#include "wire/torch_bridge.h"

namespace biofed {

absl::StatusOr<ModelEvaluator> MakeModelEvaluator(const ModelSpec& spec, std::shared_ptr<const Dataset> test,
                                                  const Normalization& norm, const std::string& device_name) {
  BIOFED_ASSIGN_OR_RETURN(torch::Device device, ResolveDevice(device_name));
  BIOFED_ASSIGN_OR_RETURN(Model model, BuildModel(spec, 0));
  model.to(device);
  auto mutex = std::make_shared<std::mutex>();
  return ModelEvaluator([=](const TensorTable& state) -> absl::StatusOr<EvaluationResult> {
    std::lock_guard<std::mutex> lock(*mutex);
    return CallTorch("evaluating the global model", [&]() -> absl::StatusOr<EvaluationResult> {
      BIOFED_RETURN_IF_ERROR(LoadState(model, ToNamedTensors(state)));
      const auto [loss, accuracy] = Evaluate(model, *test, norm, device);
      return EvaluationResult{accuracy, loss};
    });
  });
}

}  // namespace biofed
