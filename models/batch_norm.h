// Training-mode BatchNorm2d for the models' forward passes, with a second
// derivative in a few fused tensor operations.
//
// Why: gradient-inversion attacks differentiate the gradient of a batch
// (second-order autograd). LibTorch 1.13 computes BatchNorm's double
// backward as a composite of ~80 small operators (batchnorm_double_backward),
// which took a fifth of an Inverting Gradients iteration on ResNet20
// (docs/benchmarks.md). Here the forward and the first backward are
// LibTorch's own kernels (native_batch_norm and native_batch_norm_backward,
// so values and running statistics are bit for bit the module's), and the
// backward of the backward is the closed form derived in batch_norm.cc.
// Derivatives of third order are refused.
//
// Used on the CPU for float inputs of a module in training mode with affine
// parameters and running statistics (every BatchNorm of the models here);
// anything else goes to the module's own forward. Not thread-safe per
// module (the forward updates its running statistics, as the module's does).
#ifndef BIOFED_MODELS_BATCH_NORM_H_
#define BIOFED_MODELS_BATCH_NORM_H_

#include <torch/nn/modules/batchnorm.h>

namespace biofed {

// The module's forward on `input`, with the same effect on its buffers.
torch::Tensor BatchNorm2dForward(const torch::nn::BatchNorm2d& module, const torch::Tensor& input);

}  // namespace biofed

#endif  // BIOFED_MODELS_BATCH_NORM_H_
