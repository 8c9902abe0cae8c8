// The paper's small AlexNet ("AlexNetMini"): conv 96 (11x11, stride 4, pad 7
// for 28x28 or 5 for 32x32) - pool - conv 256 (5x5) - pool - conv 256, 384,
// 384 (3x3) - pool - FC 384-384-384-C, ReLU6 after every layer but the last,
// WS on every layer but the classifier. Inputs must be 28x28 or 32x32.
#ifndef BIOFED_MODELS_ALEXNET_H_
#define BIOFED_MODELS_ALEXNET_H_

#include <vector>

#include <torch/nn/cloneable.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>

#include "models/model_spec.h"

namespace biofed {

class AlexNetImpl : public torch::nn::Cloneable<AlexNetImpl> {
 public:
  explicit AlexNetImpl(const ModelSpec& spec);
  void reset() override;
  torch::Tensor forward(const torch::Tensor& x);

 private:
  ModelSpec spec_;
  std::vector<torch::nn::Conv2d> convs_;
  std::vector<torch::nn::Linear> fcs_;
};
TORCH_MODULE(AlexNet);

}  // namespace biofed

#endif  // BIOFED_MODELS_ALEXNET_H_
