#include "models/weight_split.h"

#include <algorithm>
#include <utility>

#include <torch/torch.h>
#include <torch/version.h>

#include "models/conv2d.h"
#include "models/layer_tape.h"

namespace biofed {
namespace {

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

// A weight layer as the tape records it (models/layer_tape.h).
TapedLayer Taped(const torch::Tensor& weight, const torch::Tensor& input, const torch::Tensor& output,
                 int64_t split_gamma) {
  TapedLayer taped;
  taped.weight = weight;
  taped.input = input;
  taped.output = output;
  taped.split_gamma = split_gamma;
  return taped;
}

}  // namespace

torch::Tensor BlockSum(const torch::Tensor& t, int64_t gamma) {
  std::vector<int64_t> shape = t.sizes().vec();
  shape[0] /= gamma;
  shape.insert(shape.begin() + 1, gamma);
  return t.view(shape).sum(1);
}

void CheckSplittable(const std::string& layer_name, int64_t out_features, int64_t gamma) {
  TORCH_CHECK(gamma <= 1 || out_features % gamma == 0, "weight splitting: layer ", layer_name,
              " has ", out_features, " outputs, not divisible by Gamma = ", gamma);
}

torch::Tensor SplitLinearForward(const torch::nn::Linear& layer, const torch::Tensor& input,
                                 int64_t gamma) {
  const int64_t applied_gamma = std::max<int64_t>(gamma, 1);
  torch::Tensor output;
  if (applied_gamma == 1) {
    output = layer.ptr()->forward(input);
  } else {
    const torch::Tensor bias = layer->bias.defined() ? BlockSum(layer->bias, gamma) : torch::Tensor();
    output = torch::nn::functional::linear(input, BlockSum(layer->weight, gamma), bias);
  }
  if (LayerTape::Recording()) LayerTape::Record(Taped(layer->weight, input, output, applied_gamma));
  return applied_gamma == 1 ? output : RepeatChannels(output, gamma);
}

torch::Tensor SplitConv2dForward(const torch::nn::Conv2d& layer, const torch::Tensor& input,
                                 int64_t gamma) {
  const auto& options = layer->options;
  const auto* padding = ExplicitPadding(options);
  const bool plain = padding != nullptr && options.groups() == 1 && *options.dilation() == at::IntArrayRef{1, 1} &&
                     PadsWithZeros(options);
  if (gamma <= 1 && !plain) return layer.ptr()->forward(input);  // not taped: no factored form
  TORCH_CHECK(plain, "weight splitting needs a Conv2d with explicit padding, no dilation, groups or padding mode");
  const int64_t applied_gamma = std::max<int64_t>(gamma, 1);
  torch::Tensor output;
  if (applied_gamma == 1) {
    output = Conv2d(input, layer->weight, layer->bias, *options.stride(), **padding);
  } else {
    const torch::Tensor bias = layer->bias.defined() ? BlockSum(layer->bias, gamma) : torch::Tensor();
    output = Conv2d(input, BlockSum(layer->weight, gamma), bias, *options.stride(), **padding);
  }
  if (LayerTape::Recording()) {
    TapedLayer taped = Taped(layer->weight, input, output, applied_gamma);
    taped.convolution = true;
    taped.kernel = at::IntArrayRef(*options.kernel_size()).vec();
    taped.stride = at::IntArrayRef(*options.stride()).vec();
    taped.padding = at::IntArrayRef(*padding).vec();
    LayerTape::Record(std::move(taped));
  }
  return applied_gamma == 1 ? output : RepeatChannels(output, gamma);
}

}  // namespace biofed
