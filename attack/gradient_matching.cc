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

torch::Tensor CosineDistance(const std::vector<torch::Tensor>& a, const std::vector<torch::Tensor>& b) {
  torch::Tensor dot = torch::zeros({}, a.front().options());
  torch::Tensor na = torch::zeros({}, a.front().options());
  torch::Tensor nb = torch::zeros({}, a.front().options());
  for (size_t i = 0; i < a.size(); ++i) {
    dot = dot + (a[i] * b[i]).sum();
    na = na + a[i].pow(2).sum();
    nb = nb + b[i].pow(2).sum();
  }
  return 1 - dot / (na.sqrt() * nb.sqrt() + 1e-20);
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
