// A classifier built from a ModelSpec: a type-erased LibTorch module plus its
// spec. Copies of a Model share parameters; Clone() deep-copies (every client
// trains its own copy). A Model is not thread-safe; clones are independent.
#ifndef BIOFED_MODELS_MODEL_H_
#define BIOFED_MODELS_MODEL_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <torch/nn/modules/container/any.h>

#include "absl/status/statusor.h"
#include "models/model_spec.h"

namespace biofed {

struct NamedTensor {
  std::string name;
  torch::Tensor tensor;
};

// Where one layer's weight and bias sit among a model's named_parameters().
struct LayerParameters {
  std::string name;  // the layer's module name, e.g. "fc2"
  size_t weight = 0;
  size_t bias = 0;
  bool has_bias = false;
};

class Model {
 public:
  Model() = default;
  Model(ModelSpec spec, torch::nn::AnyModule module);

  torch::Tensor forward(const torch::Tensor& x) const;
  torch::nn::Module& module() const { return *module_.ptr(); }
  const ModelSpec& spec() const { return spec_; }

  // A deep copy (parameters and buffers), optionally placed on `device`.
  Model Clone(const torch::optional<torch::Device>& device = torch::nullopt) const;

  void train(bool on = true) const { module_.ptr()->train(on); }
  void to(const torch::Device& device) const { module_.ptr()->to(device); }
  torch::Device device() const;

  std::vector<torch::Tensor> parameters() const { return module_.ptr()->parameters(); }
  std::vector<NamedTensor> named_parameters() const;
  // Parameters and buffers (BatchNorm running statistics) by name: the state
  // that defines the model.
  std::vector<NamedTensor> named_state() const;
  int64_t ParameterCount() const;

  // The weights of Linear and Conv2d layers (biases, BatchNorm excluded), in
  // registration order: what fuzzy learning rates and rejuvenation act on.
  std::vector<NamedTensor> MechanismTargets() const;

  // The layout the attacks read gradients by. The classifier is the last
  // Linear layer (it produces the logits); every model here has one.
  LayerParameters Classifier() const;
  // The layer that takes the input, when it is a Linear layer (the MLP);
  // nullopt when it is a convolution.
  std::optional<LayerParameters> FirstLinearLayer() const;

 private:
  ModelSpec spec_;
  torch::nn::AnyModule module_;
};

// Builds the model of `spec` with weights drawn from `seed`. Returns
// INVALID_ARGUMENT for an unsupported shape or a layer WS cannot split.
// Thread-safe (construction is serialised, since it seeds LibTorch's global
// generator).
absl::StatusOr<Model> BuildModel(const ModelSpec& spec, uint64_t seed);

}  // namespace biofed

#endif  // BIOFED_MODELS_MODEL_H_
