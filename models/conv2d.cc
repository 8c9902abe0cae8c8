#include "models/conv2d.h"

#include <ATen/Context.h>
#include <torch/torch.h>

namespace biofed {
namespace {

using torch::Tensor;
using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// Output positions per image from which oneDNN's forward kernel computes the
// input and weight gradients faster than LibTorch's backward kernels: at
// 7x7 and more (ResNet20's 3x3 layers) 2-3x faster; at 2x2 and 4x4
// (AlexNet's layers after conv1), where each weight meets few positions,
// 2-8x slower, because the flipped or swapped operand is a weight-sized
// tensor that oneDNN reorders on every call (bench/attack_profile.cc and
// docs/benchmarks.md).
constexpr int64_t kMinPositionsForOneDnnGradients = 32;

// A tensor that travels with a function call for its shape only: not an
// autograd input (custom functions take every Tensor argument as one).
struct ShapeOf {
  Tensor tensor;
};

std::vector<int64_t> IntList(const AutogradContext* ctx, const char* key) {
  return ctx->saved_data.at(key).toIntVector();
}

bool AllOnes(at::IntArrayRef v) {
  for (int64_t x : v) {
    if (x != 1) return false;
  }
  return true;
}

int64_t Positions(const Tensor& t) { return t.size(2) * t.size(3); }

using OptionalTensor = c10::optional<Tensor>;

Tensor ForwardConvolution(const Tensor& x, const Tensor& w, const OptionalTensor& bias, at::IntArrayRef stride,
                          at::IntArrayRef padding) {
  return at::mkldnn_convolution(x.contiguous(), w.contiguous(), bias, padding, stride, /*dilation=*/{1, 1},
                                /*groups=*/1);
}

// d<Conv(x, w), gy>/dx, shaped like x: with stride 1 a convolution of gy
// with the flipped, transposed weight.
Tensor InputGradient(const Tensor& gy, const Tensor& w, const Tensor& x, at::IntArrayRef stride,
                     at::IntArrayRef padding) {
  const int64_t kh = w.size(2), kw = w.size(3);
  if (AllOnes(stride) && padding[0] < kh && padding[1] < kw && Positions(gy) >= kMinPositionsForOneDnnGradients) {
    return ForwardConvolution(gy, w.flip({2, 3}).transpose(0, 1), c10::nullopt, {1, 1},
                              {kh - 1 - padding[0], kw - 1 - padding[1]});
  }
  return std::get<0>(at::convolution_backward(gy, x, w, c10::nullopt, stride, padding, /*dilation=*/{1, 1},
                                              /*transposed=*/false, /*output_padding=*/{0, 0}, /*groups=*/1,
                                              {true, false, false}));
}

// d<Conv(x, w), gy>/dw, shaped like w: a convolution of x's channels (as a
// batch) with gy's channels (as filters), dilated by the stride.
Tensor WeightGradient(const Tensor& x, const Tensor& gy, const Tensor& w, at::IntArrayRef stride,
                      at::IntArrayRef padding) {
  if (Positions(gy) >= kMinPositionsForOneDnnGradients) {
    const Tensor swapped = at::mkldnn_convolution(x.transpose(0, 1).contiguous(), gy.transpose(0, 1).contiguous(),
                                                  c10::nullopt, padding, /*stride=*/{1, 1}, /*dilation=*/stride, 1);
    return swapped.narrow(2, 0, w.size(2)).narrow(3, 0, w.size(3)).transpose(0, 1).contiguous();
  }
  return std::get<1>(at::convolution_backward(gy, x, w, c10::nullopt, stride, padding, /*dilation=*/{1, 1},
                                              /*transposed=*/false, /*output_padding=*/{0, 0}, /*groups=*/1,
                                              {false, true, false}));
}

void SaveGeometry(AutogradContext* ctx, at::IntArrayRef stride, at::IntArrayRef padding) {
  ctx->saved_data["stride"] = stride.vec();
  ctx->saved_data["padding"] = padding.vec();
}

// y = Conv(x, w) + b. An absent bias is no autograd input.
class ConvFunction : public torch::autograd::Function<ConvFunction> {
 public:
  static Tensor forward(AutogradContext* ctx, const Tensor& x, const Tensor& w, const OptionalTensor& bias,
                        std::vector<int64_t> stride, std::vector<int64_t> padding);
  static variable_list backward(AutogradContext* ctx, variable_list grads);
};

// gx = ConvT(gy, w) = d<Conv(x, w), gy>/dx; `x` gives the shape.
class InputGradientFunction : public torch::autograd::Function<InputGradientFunction> {
 public:
  static Tensor forward(AutogradContext* ctx, const Tensor& gy, const Tensor& w, ShapeOf x, std::vector<int64_t> stride,
                        std::vector<int64_t> padding) {
    ctx->save_for_backward({gy, w});
    ctx->saved_data["x"] = x.tensor;
    SaveGeometry(ctx, stride, padding);
    return InputGradient(gy, w, x.tensor, stride, padding);
  }
  static variable_list backward(AutogradContext* ctx, variable_list grads);
};

// gw = WGrad(x, gy) = d<Conv(x, w), gy>/dw; `w` gives the shape.
class WeightGradientFunction : public torch::autograd::Function<WeightGradientFunction> {
 public:
  static Tensor forward(AutogradContext* ctx, const Tensor& x, const Tensor& gy, ShapeOf w, std::vector<int64_t> stride,
                        std::vector<int64_t> padding) {
    ctx->save_for_backward({x, gy});
    ctx->saved_data["w"] = w.tensor;
    SaveGeometry(ctx, stride, padding);
    return WeightGradient(x, gy, w.tensor, stride, padding);
  }
  static variable_list backward(AutogradContext* ctx, variable_list grads);
};

Tensor ConvFunction::forward(AutogradContext* ctx, const Tensor& x, const Tensor& w, const OptionalTensor& bias,
                             std::vector<int64_t> stride, std::vector<int64_t> padding) {
  ctx->save_for_backward({x, w});
  ctx->saved_data["has_bias"] = bias.has_value();
  SaveGeometry(ctx, stride, padding);
  return ForwardConvolution(x, w, bias, stride, padding);
}

variable_list ConvFunction::backward(AutogradContext* ctx, variable_list grads) {
  const variable_list saved = ctx->get_saved_variables();
  const Tensor &x = saved[0], &w = saved[1], &gy = grads[0];
  const auto stride = IntList(ctx, "stride"), padding = IntList(ctx, "padding");
  Tensor gx, gw, gb;
  if (ctx->needs_input_grad(0)) gx = InputGradientFunction::apply(gy, w, ShapeOf{x.detach()}, stride, padding);
  if (ctx->needs_input_grad(1)) gw = WeightGradientFunction::apply(x, gy, ShapeOf{w.detach()}, stride, padding);
  if (ctx->saved_data.at("has_bias").toBool() && ctx->needs_input_grad(2)) gb = gy.sum({0, 2, 3});
  return {gx, gw, gb, Tensor(), Tensor()};
}

// <ConvT(gy, w), ggx> = <gy, Conv(ggx, w)>, so d/dgy = Conv(ggx, w) and
// d/dw = WGrad(ggx, gy).
variable_list InputGradientFunction::backward(AutogradContext* ctx, variable_list grads) {
  const variable_list saved = ctx->get_saved_variables();
  const Tensor &gy = saved[0], &w = saved[1], &ggx = grads[0];
  const auto stride = IntList(ctx, "stride"), padding = IntList(ctx, "padding");
  Tensor d_gy, d_w;
  if (ctx->needs_input_grad(0)) d_gy = ConvFunction::apply(ggx, w, OptionalTensor(), stride, padding);
  if (ctx->needs_input_grad(1)) d_w = WeightGradientFunction::apply(ggx, gy, ShapeOf{w.detach()}, stride, padding);
  return {d_gy, d_w, Tensor(), Tensor(), Tensor()};
}

// <WGrad(x, gy), ggw> = <Conv(x, ggw), gy>, so d/dx = ConvT(gy, ggw) and
// d/dgy = Conv(x, ggw).
variable_list WeightGradientFunction::backward(AutogradContext* ctx, variable_list grads) {
  const variable_list saved = ctx->get_saved_variables();
  const Tensor &x = saved[0], &gy = saved[1], &ggw = grads[0];
  const auto stride = IntList(ctx, "stride"), padding = IntList(ctx, "padding");
  Tensor d_x, d_gy;
  if (ctx->needs_input_grad(0)) d_x = InputGradientFunction::apply(gy, ggw, ShapeOf{x.detach()}, stride, padding);
  if (ctx->needs_input_grad(1)) d_gy = ConvFunction::apply(x, ggw, OptionalTensor(), stride, padding);
  return {d_x, d_gy, Tensor(), Tensor(), Tensor()};
}

}  // namespace

bool UsesOneDnnConvolutions(const Tensor& input) {
  return at::hasMKLDNN() && at::globalContext().userEnabledMkldnn() && input.device().is_cpu() &&
         input.layout() == torch::kStrided && input.scalar_type() == torch::kFloat && input.dim() == 4 &&
         input.size(0) == 1;
}

Tensor Conv2d(const Tensor& input, const Tensor& weight, const Tensor& bias, at::IntArrayRef stride,
              at::IntArrayRef padding) {
  if (!UsesOneDnnConvolutions(input)) return at::conv2d(input, weight, bias, stride, padding);
  return ConvFunction::apply(input, weight, bias.defined() ? OptionalTensor(bias) : OptionalTensor(), stride.vec(),
                             padding.vec());
}

}  // namespace biofed
