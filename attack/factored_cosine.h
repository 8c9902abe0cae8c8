// The Inverting-Gradients cosine between a candidate batch's parameter
// gradients and a constant target, computed without forming the weight
// gradients of the layers where that is the expensive way.
//
// A layer y = W x (or a convolution) has the weight gradient
// G = sum_n dL/dy_n x_n^T over its N rows (examples x output positions), so
// <G, T> = sum(dL/dy * layer(x; T)) (the layer applied with the target's
// weights T), and ||G||^2 = sum((X X^T) * (D D^T)) for the N x K matrix X of
// input patches and the N x out matrix D of output gradients. Where N is small
// against the weight (a batch of few images; AlexNet's layers after conv1,
// which see 16 and 4 positions at 28x28) that replaces the gradient and the
// half dozen weight-sized passes over it that the cosine and its derivatives
// make with one product with T and two N x N Gram matrices: what dominated
// an Inverting Gradients iteration on AlexNet and the MLP (docs/benchmarks.md).
// Other parameters enter as plain gradients. Stateless; thread-safe on
// distinct models.
#ifndef BIOFED_ATTACK_FACTORED_COSINE_H_
#define BIOFED_ATTACK_FACTORED_COSINE_H_

#include <vector>

#include "models/model.h"

namespace biofed {

// Which taped layers enter through their factors.
enum class Factoring {
  kWhereCheaper,     // by a cost model (what the attacks use)
  kEveryTapedLayer,  // all of them (tests: every layer shape through the factored sums)
};

// 1 - cos(concat(g), concat(target)), where g = CandidateGradients(model,
// images, targets) and `target` is aligned with model.parameters() (no
// gradient flows to it) and `target_norm` is its norm. Equal to
// CosineDistance(CandidateGradients(..., /*create_graph=*/true), target,
// target_norm) up to float summation order, and differentiable (first
// order) w.r.t. `images`. With no layer factored it is that expression, bit
// for bit. Throws c10::Error when `target` does not match the parameters.
torch::Tensor CandidateCosineDistance(const Model& model, const torch::Tensor& images, const torch::Tensor& targets,
                                      const std::vector<torch::Tensor>& target, const torch::Tensor& target_norm,
                                      Factoring factoring = Factoring::kWhereCheaper);

}  // namespace biofed

#endif  // BIOFED_ATTACK_FACTORED_COSINE_H_
