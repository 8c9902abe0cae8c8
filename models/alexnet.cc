#include "models/alexnet.h"

#include <torch/torch.h>

#include "models/weight_split.h"

namespace biofed {

AlexNetImpl::AlexNetImpl(const ModelSpec& spec) : spec_(spec) { reset(); }

void AlexNetImpl::reset() {
  const InputShape& in = spec_.input;
  TORCH_CHECK(in.height == in.width && (in.height == 28 || in.height == 32),
              "alexnet takes 28x28 or 32x32 inputs, got ", in.height, "x", in.width);
  const int64_t first_padding = in.height == 28 ? 7 : 5;  // both give 8x8 after conv1
  struct ConvShape { int64_t out, kernel, stride, padding; };
  const std::vector<ConvShape> shapes = {
      {96, 11, 4, first_padding}, {256, 5, 1, 2}, {256, 3, 1, 1}, {384, 3, 1, 1}, {384, 3, 1, 1}};
  convs_.clear();
  fcs_.clear();
  torch::NoGradGuard no_grad;
  int64_t channels = in.channels;
  for (size_t i = 0; i < shapes.size(); ++i) {
    const std::string name = "conv" + std::to_string(i + 1);
    CheckSplittable(name, shapes[i].out, spec_.split_gamma);
    auto conv = register_module(
        name, torch::nn::Conv2d(torch::nn::Conv2dOptions(channels, shapes[i].out, shapes[i].kernel)
                                    .stride(shapes[i].stride)
                                    .padding(shapes[i].padding)));
    conv->bias.zero_();
    convs_.push_back(conv);
    channels = shapes[i].out;
  }
  const std::vector<int64_t> widths = {384, 384, spec_.num_classes};
  int64_t fan_in = channels;  // 384 x 1 x 1 after the last pool
  for (size_t i = 0; i < widths.size(); ++i) {
    const std::string name = "fc" + std::to_string(i + 1);
    if (i + 1 < widths.size()) CheckSplittable(name, widths[i], spec_.split_gamma);
    auto fc = register_module(name, torch::nn::Linear(fan_in, widths[i]));
    fc->bias.zero_();
    fcs_.push_back(fc);
    fan_in = widths[i];
  }
}

torch::Tensor AlexNetImpl::forward(const torch::Tensor& x) {
  const int64_t g = spec_.split_gamma;
  torch::Tensor h = torch::relu6(SplitConv2dForward(convs_[0], x, g));
  h = torch::max_pool2d(h, 2);
  h = torch::max_pool2d(torch::relu6(SplitConv2dForward(convs_[1], h, g)), 2);
  h = torch::relu6(SplitConv2dForward(convs_[2], h, g));
  h = torch::relu6(SplitConv2dForward(convs_[3], h, g));
  h = torch::max_pool2d(torch::relu6(SplitConv2dForward(convs_[4], h, g)), 2);
  h = h.flatten(1);
  h = torch::relu6(SplitLinearForward(fcs_[0], h, g));
  h = torch::relu6(SplitLinearForward(fcs_[1], h, g));
  return fcs_[2]->forward(h);
}

}  // namespace biofed
