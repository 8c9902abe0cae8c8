#include "models/weight_split.h"

#include <torch/torch.h>
#include <torch/version.h>

#include "models/conv2d.h"

namespace biofed {
namespace {

// Sums contiguous blocks of `gamma` along dim 0 of a weight or bias.
torch::Tensor BlockSum(const torch::Tensor& t, int64_t gamma) {
  std::vector<int64_t> shape = t.sizes().vec();
  shape[0] /= gamma;
  shape.insert(shape.begin() + 1, gamma);
  return t.view(shape).sum(1);
}

// The explicit padding of a Conv2d's options, or nullptr ("same"/"valid").
// LibTorch 1.x keeps the padding in c10::variant, 2.x in std::variant.
const torch::ExpandingArray<2>* ExplicitPadding(const torch::nn::detail::ConvNdOptions<2>& options) {
#if TORCH_VERSION_MAJOR >= 2
  return std::get_if<torch::ExpandingArray<2>>(&options.padding());
#else
  return c10::get_if<torch::ExpandingArray<2>>(&options.padding());
#endif
}

// Whether a Conv2d pads with zeros (its default padding mode).
bool PadsWithZeros(const torch::nn::detail::ConvNdOptions<2>& options) {
#if TORCH_VERSION_MAJOR >= 2
  return std::holds_alternative<torch::enumtype::kZeros>(options.padding_mode());
#else
  return c10::holds_alternative<torch::enumtype::kZeros>(options.padding_mode());
#endif
}

// Repeats each channel (dim 1) `gamma` times in place: [s0, s1] -> [s0, s0, s1, s1].
torch::Tensor RepeatChannels(const torch::Tensor& y, int64_t gamma) {
  std::vector<int64_t> expanded = y.sizes().vec();
  expanded.insert(expanded.begin() + 2, gamma);
  std::vector<int64_t> out = y.sizes().vec();
  out[1] *= gamma;
  return y.unsqueeze(2).expand(expanded).reshape(out);
}

}  // namespace

void CheckSplittable(const std::string& layer_name, int64_t out_features, int64_t gamma) {
  TORCH_CHECK(gamma <= 1 || out_features % gamma == 0, "weight splitting: layer ", layer_name,
              " has ", out_features, " outputs, not divisible by Gamma = ", gamma);
}

torch::Tensor SplitLinearForward(const torch::nn::Linear& layer, const torch::Tensor& input,
                                 int64_t gamma) {
  if (gamma <= 1) return layer.ptr()->forward(input);
  const torch::Tensor bias = layer->bias.defined() ? BlockSum(layer->bias, gamma) : torch::Tensor();
  return RepeatChannels(torch::nn::functional::linear(input, BlockSum(layer->weight, gamma), bias),
                        gamma);
}

torch::Tensor SplitConv2dForward(const torch::nn::Conv2d& layer, const torch::Tensor& input,
                                 int64_t gamma) {
  const auto& options = layer->options;
  const auto* padding = ExplicitPadding(options);
  const bool plain = padding != nullptr && options.groups() == 1 && *options.dilation() == at::IntArrayRef{1, 1} &&
                     PadsWithZeros(options);
  if (gamma <= 1) {
    if (!plain) return layer.ptr()->forward(input);
    return Conv2d(input, layer->weight, layer->bias, *options.stride(), **padding);
  }
  TORCH_CHECK(plain, "weight splitting needs a Conv2d with explicit padding, no dilation, groups or padding mode");
  const torch::Tensor bias = layer->bias.defined() ? BlockSum(layer->bias, gamma) : torch::Tensor();
  return RepeatChannels(Conv2d(input, BlockSum(layer->weight, gamma), bias, *options.stride(), **padding), gamma);
}

}  // namespace biofed
