#include "models/resnet.h"

#include <torch/torch.h>

#include "models/batch_norm.h"
#include "models/weight_split.h"

namespace biofed {
namespace {

torch::nn::Conv2d Conv3x3(int64_t in, int64_t out, int64_t stride) {
  auto conv = torch::nn::Conv2d(
      torch::nn::Conv2dOptions(in, out, 3).stride(stride).padding(1).bias(false));
  torch::NoGradGuard no_grad;
  torch::nn::init::kaiming_normal_(conv->weight);
  return conv;
}

}  // namespace

BasicBlockImpl::BasicBlockImpl(int64_t in_planes, int64_t planes, int64_t stride,
                               int64_t split_gamma)
    : in_planes_(in_planes), planes_(planes), stride_(stride), split_gamma_(split_gamma) {
  reset();
}

void BasicBlockImpl::reset() {
  CheckSplittable("resnet block conv", planes_, split_gamma_);
  conv1_ = register_module("conv1", Conv3x3(in_planes_, planes_, stride_));
  bn1_ = register_module("bn1", torch::nn::BatchNorm2d(planes_));
  conv2_ = register_module("conv2", Conv3x3(planes_, planes_, 1));
  bn2_ = register_module("bn2", torch::nn::BatchNorm2d(planes_));
}

torch::Tensor BasicBlockImpl::forward(const torch::Tensor& x) {
  torch::Tensor out = torch::relu(BatchNorm2dForward(bn1_, SplitConv2dForward(conv1_, x, split_gamma_)));
  out = BatchNorm2dForward(bn2_, SplitConv2dForward(conv2_, out, split_gamma_));
  torch::Tensor shortcut = x;
  if (stride_ != 1 || in_planes_ != planes_) {
    // Option A: subsample spatially, zero-pad the new channels on both sides.
    const int64_t pad = (planes_ - in_planes_) / 2;
    shortcut = torch::constant_pad_nd(
        x.slice(2, 0, x.size(2), stride_).slice(3, 0, x.size(3), stride_), {0, 0, 0, 0, pad, pad});
  }
  return torch::relu(out + shortcut);
}

ResNetImpl::ResNetImpl(const ModelSpec& spec, int64_t blocks_per_stage)
    : spec_(spec), blocks_per_stage_(blocks_per_stage) {
  reset();
}

void ResNetImpl::reset() {
  constexpr int64_t kBaseWidth = 16;
  CheckSplittable("conv1", kBaseWidth, spec_.split_gamma);
  conv1_ = register_module("conv1", Conv3x3(spec_.input.channels, kBaseWidth, 1));
  bn1_ = register_module("bn1", torch::nn::BatchNorm2d(kBaseWidth));
  stages_.clear();
  int64_t in_planes = kBaseWidth;
  for (int64_t stage = 0; stage < 3; ++stage) {
    const int64_t planes = kBaseWidth << stage;
    auto list = register_module("layer" + std::to_string(stage + 1), torch::nn::ModuleList());
    for (int64_t b = 0; b < blocks_per_stage_; ++b) {
      const int64_t stride = (stage > 0 && b == 0) ? 2 : 1;
      BasicBlock block(in_planes, planes, stride, spec_.split_gamma);
      list->push_back(block);
      in_planes = planes;
    }
    stages_.push_back(list);
  }
  fc_ = register_module("fc", torch::nn::Linear(in_planes, spec_.num_classes));
  torch::NoGradGuard no_grad;
  torch::nn::init::kaiming_normal_(fc_->weight);
  fc_->bias.zero_();
}

torch::Tensor ResNetImpl::forward(const torch::Tensor& x) {
  torch::Tensor h = torch::relu(BatchNorm2dForward(bn1_, SplitConv2dForward(conv1_, x, spec_.split_gamma)));
  for (const auto& stage : stages_) {
    for (const auto& block : *stage) h = block->as<BasicBlockImpl>()->forward(h);
  }
  h = h.mean({2, 3});
  return fc_->forward(h);
}

}  // namespace biofed
