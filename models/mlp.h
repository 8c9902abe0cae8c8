// The paper's MLP: 784-1000-C for 28x28x1 inputs, 3072-3000-3000-C for
// 32x32x3 (and in general flatten-H-[H]-C), ReLU, WS on every hidden layer.
// Parameter names: fc1, fc2[, fc3]; the last is the classifier.
#ifndef BIOFED_MODELS_MLP_H_
#define BIOFED_MODELS_MLP_H_

#include <vector>

#include <torch/nn/cloneable.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>

#include "models/model_spec.h"

namespace biofed {

class MlpImpl : public torch::nn::Cloneable<MlpImpl> {
 public:
  explicit MlpImpl(const ModelSpec& spec);
  void reset() override;
  torch::Tensor forward(const torch::Tensor& x);

 private:
  ModelSpec spec_;
  std::vector<torch::nn::Linear> layers_;
};
TORCH_MODULE(Mlp);

}  // namespace biofed

#endif  // BIOFED_MODELS_MLP_H_
