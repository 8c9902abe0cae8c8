// CIFAR-style ResNet20/32/56 (He et al. 2016): a 3x3 conv of width 16, three
// stages of n basic blocks (widths 16, 32, 64; n = 3, 5, 9), option-A
// identity shortcuts (subsample and zero-pad channels), global average pool
// and a Linear classifier. Kaiming-normal init, zero biases. WS acts on every
// conv output before its BatchNorm.
#ifndef BIOFED_MODELS_RESNET_H_
#define BIOFED_MODELS_RESNET_H_

#include <vector>

#include <torch/nn/cloneable.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>

#include "models/model_spec.h"

namespace biofed {

class BasicBlockImpl : public torch::nn::Cloneable<BasicBlockImpl> {
 public:
  BasicBlockImpl(int64_t in_planes, int64_t planes, int64_t stride, int64_t split_gamma);
  void reset() override;
  torch::Tensor forward(const torch::Tensor& x);

 private:
  int64_t in_planes_, planes_, stride_, split_gamma_;
  torch::nn::Conv2d conv1_{nullptr}, conv2_{nullptr};
  torch::nn::BatchNorm2d bn1_{nullptr}, bn2_{nullptr};
};
TORCH_MODULE(BasicBlock);

class ResNetImpl : public torch::nn::Cloneable<ResNetImpl> {
 public:
  // `blocks_per_stage` is 3, 5 or 9 for ResNet20, 32, 56.
  ResNetImpl(const ModelSpec& spec, int64_t blocks_per_stage);
  void reset() override;
  torch::Tensor forward(const torch::Tensor& x);

 private:
  ModelSpec spec_;
  int64_t blocks_per_stage_;
  torch::nn::Conv2d conv1_{nullptr};
  torch::nn::BatchNorm2d bn1_{nullptr};
  // The stage lists, not the blocks, are kept: clone() replaces a list's
  // contents in place, so blocks must be reached through the list.
  std::vector<torch::nn::ModuleList> stages_;
  torch::nn::Linear fc_{nullptr};
};
TORCH_MODULE(ResNet);

}  // namespace biofed

#endif  // BIOFED_MODELS_RESNET_H_
