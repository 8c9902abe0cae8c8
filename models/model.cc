#include "models/model.h"

#include <mutex>

#include <torch/torch.h>

#include "common/torch_status.h"
#include "models/alexnet.h"
#include "models/imprint_block.h"
#include "models/mlp.h"
#include "models/resnet.h"

namespace biofed {

Model::Model(ModelSpec spec, torch::nn::AnyModule module)
    : spec_(std::move(spec)), module_(std::move(module)) {}

torch::Tensor Model::forward(const torch::Tensor& x) const {
  return const_cast<torch::nn::AnyModule&>(module_).forward(x);
}

namespace {

// LibTorch's layers initialise from the process-wide generator: building a
// model seeds it and draws, and clone() draws too (it re-runs reset() before
// copying the values). Both hold this lock, so a clone in one thread cannot
// take numbers out of a seeded build in another and change its weights.
std::mutex& GlobalGeneratorMutex() {
  static std::mutex mutex;
  return mutex;
}

torch::nn::AnyModule ClassifierModule(const ModelSpec& spec) {
  switch (spec.architecture) {
    case Architecture::kMlp: return torch::nn::AnyModule(Mlp(spec));
    case Architecture::kAlexNet: return torch::nn::AnyModule(AlexNet(spec));
    case Architecture::kResNet20: return torch::nn::AnyModule(ResNet(spec, 3));
    case Architecture::kResNet32: return torch::nn::AnyModule(ResNet(spec, 5));
    case Architecture::kResNet56: return torch::nn::AnyModule(ResNet(spec, 9));
  }
  TORCH_CHECK(false, "unknown architecture");
}

}  // namespace

Model Model::Clone(const torch::optional<torch::Device>& device) const {
  std::lock_guard<std::mutex> lock(GlobalGeneratorMutex());
  return Model(spec_, module_.clone(device));
}

torch::Device Model::device() const {
  const auto params = module_.ptr()->parameters();
  return params.empty() ? torch::Device(torch::kCPU) : params.front().device();
}

std::vector<NamedTensor> Model::named_parameters() const {
  std::vector<NamedTensor> out;
  for (const auto& item : module_.ptr()->named_parameters()) out.push_back({item.key(), item.value()});
  return out;
}

std::vector<NamedTensor> Model::named_state() const {
  std::vector<NamedTensor> out = named_parameters();
  for (const auto& item : module_.ptr()->named_buffers()) out.push_back({item.key(), item.value()});
  return out;
}

int64_t Model::ParameterCount() const {
  int64_t count = 0;
  for (const auto& p : module_.ptr()->parameters()) count += p.numel();
  return count;
}

std::vector<NamedTensor> Model::MechanismTargets() const {
  std::vector<NamedTensor> out;
  for (const auto& item : module_.ptr()->named_modules()) {
    const auto& m = item.value();
    if (auto* linear = m->as<torch::nn::Linear>()) {
      out.push_back({item.key() + ".weight", linear->weight});
    } else if (auto* conv = m->as<torch::nn::Conv2d>()) {
      out.push_back({item.key() + ".weight", conv->weight});
    }
  }
  return out;
}

namespace {

LayerParameters Locate(const Model& model, const std::string& layer, bool has_bias) {
  LayerParameters out;
  out.name = layer;
  out.has_bias = has_bias;
  const std::vector<NamedTensor> named = model.named_parameters();
  for (size_t i = 0; i < named.size(); ++i) {
    if (named[i].name == layer + ".weight") out.weight = i;
    if (named[i].name == layer + ".bias") out.bias = i;
  }
  return out;
}

}  // namespace

LayerParameters Model::Classifier() const {
  std::string last;
  bool has_bias = false;
  for (const auto& item : module_.ptr()->named_modules()) {
    if (auto* linear = item.value()->as<torch::nn::Linear>()) {
      last = item.key();
      has_bias = linear->bias.defined();
    }
  }
  TORCH_CHECK(!last.empty(), "the model has no Linear classifier");
  return Locate(*this, last, has_bias);
}

std::optional<LayerParameters> Model::FirstLinearLayer() const {
  for (const auto& item : module_.ptr()->named_modules()) {
    if (auto* linear = item.value()->as<torch::nn::Linear>()) return Locate(*this, item.key(), linear->bias.defined());
    if (item.value()->as<torch::nn::Conv2d>() != nullptr) return std::nullopt;
  }
  return std::nullopt;
}

absl::StatusOr<Model> BuildModel(const ModelSpec& spec, uint64_t seed) {
  if (spec.num_classes < 2) return absl::InvalidArgumentError("a classifier needs >= 2 classes");
  if (spec.input.channels < 1 || spec.input.height < 8 || spec.input.width < 8) {
    return absl::InvalidArgumentError("input shape must be at least 1x8x8");
  }
  if (spec.imprint_bins < 0) return absl::InvalidArgumentError("imprint_bins must be >= 0");
  std::lock_guard<std::mutex> lock(GlobalGeneratorMutex());
  absl::StatusOr<Model> model = CallTorch("building " + ArchitectureName(spec.architecture), [&]() -> Model {
    torch::manual_seed(seed);
    if (spec.imprint_bins > 0) return Model(spec, torch::nn::AnyModule(ImprintBlock(spec, ClassifierModule)));
    return Model(spec, ClassifierModule(spec));
  });
  // Construction fails only on a spec the architecture cannot take.
  if (!model.ok()) return absl::InvalidArgumentError(model.status().message());
  return model;
}

}  // namespace biofed
