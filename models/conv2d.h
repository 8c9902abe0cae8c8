// A 2-D convolution (groups 1, dilation 1) for the models' forward passes,
// with derivatives of every order that are convolutions again, each run by a
// fast kernel for its shape.
//
// Why: gradient-inversion attacks differentiate the gradient of a batch of
// one image (second-order autograd). LibTorch 1.13 sends a CPU convolution
// of batch 1 with a kernel of at most 3x3 and a small input to its im2col
// and BLAS kernel ("slow_conv2d"), and its double backward through a
// transposed convolution that has no oneDNN kernel at all. oneDNN's forward
// convolution runs these shapes 2-4x faster (docs/benchmarks.md). Here the
// three linear maps of a convolution layer, y = Conv(x, w), the input
// gradient ConvT(gy, w) and the weight gradient WGrad(x, gy), are autograd
// functions whose derivatives are again Conv, ConvT and WGrad (each is
// bilinear), and each is computed as a oneDNN forward convolution where that
// is the faster way (the weight flipped for ConvT; input and output gradient
// swapped for WGrad) and by LibTorch's own convolution backward otherwise.
//
// Used on the CPU for float batches of one image, where LibTorch's choice is
// the slow one; everything else (batches > 1, CUDA, other types) goes to
// at::conv2d unchanged, bit for bit. The values differ from at::conv2d's by
// float summation order only. Stateless; thread-safe.
#ifndef BIOFED_MODELS_CONV2D_H_
#define BIOFED_MODELS_CONV2D_H_

#include <torch/types.h>

namespace biofed {

// y = conv2d(input, weight, bias) with the given stride and padding
// (dilation 1, groups 1); `bias` may be undefined.
torch::Tensor Conv2d(const torch::Tensor& input, const torch::Tensor& weight, const torch::Tensor& bias,
                     at::IntArrayRef stride, at::IntArrayRef padding);

// True when Conv2d takes its own path (batch of one, CPU, float, oneDNN
// present and enabled) rather than at::conv2d's.
bool UsesOneDnnConvolutions(const torch::Tensor& input);

}  // namespace biofed

#endif  // BIOFED_MODELS_CONV2D_H_
