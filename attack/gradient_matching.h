// The pieces the optimisation attacks share: gradients of a candidate batch
// (with the graph kept for second-order autograd), the Inverting-Gradients
// cosine objective, the DLG squared distance and total variation.
// Stateless; thread-safe on distinct models.
#ifndef BIOFED_ATTACK_GRADIENT_MATCHING_H_
#define BIOFED_ATTACK_GRADIENT_MATCHING_H_

#include <vector>

#include "models/model.h"

namespace biofed {

// The mean cross-entropy of `model` on `images`. `targets` are class indices
// (int64 [B]) or probabilities (float [B, C], soft labels).
torch::Tensor CandidateLoss(const Model& model, const torch::Tensor& images, const torch::Tensor& targets);

// Gradients of the mean cross-entropy of `model` on `images` w.r.t. its
// parameters. `targets` are class indices (int64 [B]) or probabilities
// (float [B, C], soft labels).
std::vector<torch::Tensor> CandidateGradients(const Model& model, const torch::Tensor& images,
                                              const torch::Tensor& targets, bool create_graph);

// 1 - cos(concat(a), concat(b)) over all tensors, as one autograd node (its
// gradient in fewer passes over the tensors than autograd's composite, and
// bit for bit equal to it). `b` is a constant (no gradient flows to it);
// `b_norm` is ||concat(b)|| when the caller has it, else undefined. Only
// first derivatives.
torch::Tensor CosineDistance(const std::vector<torch::Tensor>& a, const std::vector<torch::Tensor>& b,
                             const torch::Tensor& b_norm = torch::Tensor());
// 1 - cos(a, b) from <a, b>, ||a||^2 and ||b||: 1 - dot / (sqrt(a_squared) b_norm + 1e-20).
torch::Tensor CosineDistanceFromSums(const torch::Tensor& dot, const torch::Tensor& a_squared,
                                     const torch::Tensor& b_norm);
// ||concat(t)||.
torch::Tensor ConcatenatedNorm(const std::vector<torch::Tensor>& t);
// sum ||a_l - b_l||^2.
torch::Tensor SquaredDistance(const std::vector<torch::Tensor>& a, const std::vector<torch::Tensor>& b);
// Mean absolute difference of neighbouring pixels, vertical plus horizontal.
torch::Tensor TotalVariation(const torch::Tensor& images);

}  // namespace biofed

#endif  // BIOFED_ATTACK_GRADIENT_MATCHING_H_
