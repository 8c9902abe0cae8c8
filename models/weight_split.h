// Weight splitting (WS): the output channels (dim 1) of a Linear or Conv2d
// layer are cut into contiguous blocks of Gamma; each block's outputs (bias
// included) are summed and the sum is repeated Gamma times:
// [a, b, c, d] -> [a+b, a+b, c+d, c+d].
//
// Since the layer is linear, the block sum of its outputs equals the layer
// applied with block-summed weight rows and biases; that is how it is
// computed here (half the multiply-adds for Gamma = 2). The raw weight keeps
// its shape, so the parameter count is unchanged, and autograd gives every
// raw row of a block the same gradient. Both forwards record the layer on
// the thread's LayerTape when one is recording (models/layer_tape.h); a
// Conv2d only when plain (explicit zero padding, groups and dilation 1).
// Stateless; thread-safe.
#ifndef BIOFED_MODELS_WEIGHT_SPLIT_H_
#define BIOFED_MODELS_WEIGHT_SPLIT_H_

#include <string>

#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>

namespace biofed {

// Forward of `layer` with WS of factor `gamma` (<= 1: plain forward).
torch::Tensor SplitLinearForward(const torch::nn::Linear& layer, const torch::Tensor& input,
                                 int64_t gamma);
torch::Tensor SplitConv2dForward(const torch::nn::Conv2d& layer, const torch::Tensor& input,
                                 int64_t gamma);

// Sums contiguous blocks of `gamma` along dim 0 of a weight or bias: the
// weight or bias a WS layer applies.
torch::Tensor BlockSum(const torch::Tensor& t, int64_t gamma);

// Throws c10::Error naming `layer_name` when `out_features` is not divisible
// by `gamma` (checked at model construction).
void CheckSplittable(const std::string& layer_name, int64_t out_features, int64_t gamma);

}  // namespace biofed

#endif  // BIOFED_MODELS_WEIGHT_SPLIT_H_
