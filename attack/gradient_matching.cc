#include "attack/gradient_matching.h"

#include <torch/torch.h>

namespace biofed {

std::vector<torch::Tensor> CandidateGradients(const Model& model, const torch::Tensor& images,
                                              const torch::Tensor& targets, bool create_graph) {
  const torch::Tensor logits = model.forward(images);
  torch::Tensor loss;
  if (targets.scalar_type() == torch::kLong) {
    loss = torch::nn::functional::cross_entropy(logits, targets);
  } else {
    loss = -(torch::log_softmax(logits, 1) * targets).sum(1).mean();
  }
  return torch::autograd::grad({loss}, model.parameters(), /*grad_outputs=*/{},
                               /*retain_graph=*/create_graph, /*create_graph=*/create_graph);
}

torch::Tensor ConcatenatedNorm(const std::vector<torch::Tensor>& t) {
  torch::Tensor squared = torch::zeros({}, t.front().options());
  for (const auto& x : t) squared = squared + torch::dot(x.reshape(-1), x.reshape(-1));
  return squared.sqrt();
}

torch::Tensor CosineDistance(const std::vector<torch::Tensor>& a, const std::vector<torch::Tensor>& b,
                             const torch::Tensor& b_norm) {
  // dot() reads both operands once; (a * b).sum() would write a temporary
  // the size of the model first.
  torch::Tensor dot = torch::zeros({}, a.front().options());
  for (size_t i = 0; i < a.size(); ++i) dot = dot + torch::dot(a[i].reshape(-1), b[i].reshape(-1));
  const torch::Tensor nb = b_norm.defined() ? b_norm : ConcatenatedNorm(b);
  return 1 - dot / (ConcatenatedNorm(a) * nb + 1e-20);
}

torch::Tensor SquaredDistance(const std::vector<torch::Tensor>& a, const std::vector<torch::Tensor>& b) {
  torch::Tensor total = torch::zeros({}, a.front().options());
  for (size_t i = 0; i < a.size(); ++i) total = total + (a[i] - b[i]).pow(2).sum();
  return total;
}

torch::Tensor TotalVariation(const torch::Tensor& x) {
  const int64_t h = x.size(2), w = x.size(3);
  return (x.slice(2, 1, h) - x.slice(2, 0, h - 1)).abs().mean() +
         (x.slice(3, 1, w) - x.slice(3, 0, w - 1)).abs().mean();
}

}  // namespace biofed
