#include "attack/gradient_matching.h"

#include <torch/torch.h>

namespace biofed {

torch::Tensor CandidateLoss(const Model& model, const torch::Tensor& images, const torch::Tensor& targets) {
  const torch::Tensor logits = model.forward(images);
  if (targets.scalar_type() == torch::kLong) return torch::nn::functional::cross_entropy(logits, targets);
  return -(torch::log_softmax(logits, 1) * targets).sum(1).mean();
}

std::vector<torch::Tensor> CandidateGradients(const Model& model, const torch::Tensor& images,
                                              const torch::Tensor& targets, bool create_graph) {
  const torch::Tensor loss = CandidateLoss(model, images, targets);
  return torch::autograd::grad({loss}, model.parameters(), /*grad_outputs=*/{},
                               /*retain_graph=*/create_graph, /*create_graph=*/create_graph);
}

torch::Tensor ConcatenatedNorm(const std::vector<torch::Tensor>& t) {
  torch::Tensor squared = torch::zeros({}, t.front().options());
  for (const auto& x : t) squared = squared + torch::dot(x.reshape(-1), x.reshape(-1));
  return squared.sqrt();
}

torch::Tensor CosineDistanceFromSums(const torch::Tensor& dot, const torch::Tensor& a_squared,
                                     const torch::Tensor& b_norm) {
  return 1 - dot / (a_squared.sqrt() * b_norm + 1e-20);
}

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// The target side of a cosine distance: constants, not autograd inputs.
struct ConstantTarget {
  std::vector<torch::Tensor> tensors;
  torch::Tensor norm;
};

// 1 - cos(concat(a), concat(b)) for a constant b, as one autograd node.
//
// Autograd's graph of the same expression (a dot, a squared norm and two
// reshapes per tensor, then their backward nodes and the accumulation of
// three contributions per tensor) cost an Inverting Gradients iteration
// about half its time on the MLP and a third on AlexNet, where the
// gradients are model-sized (docs/benchmarks.md). Here the sums are those
// of the composite, the scalar part is differentiated by autograd as before,
// and each a_i receives (2 g_sq) a_i + g_dot b_i, which equals in float the
// composite's (g_sq a_i + g_sq a_i) + g_dot b_i (doubling is exact): the
// value and the gradient are bit for bit the composite's, in 3 passes over
// a_i instead of 5. Second derivatives are refused.
class CosineDistanceFunction : public torch::autograd::Function<CosineDistanceFunction> {
 public:
  static torch::Tensor forward(AutogradContext* ctx, at::TensorList a, ConstantTarget b) {
    torch::Tensor dot = torch::zeros({}, a.front().options());
    for (size_t i = 0; i < a.size(); ++i) dot = dot + torch::dot(a[i].reshape(-1), b.tensors[i].reshape(-1));
    torch::Tensor a_squared = torch::zeros({}, a.front().options());
    for (const auto& x : a) a_squared = a_squared + torch::dot(x.reshape(-1), x.reshape(-1));
    ctx->save_for_backward(a.vec());
    ctx->saved_data["b"] = b.tensors;
    ctx->saved_data["b_norm"] = b.norm;
    ctx->saved_data["dot"] = dot;
    ctx->saved_data["a_squared"] = a_squared;
    return CosineDistanceFromSums(dot, a_squared, b.norm);
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    TORCH_CHECK(!torch::GradMode::is_enabled(), "second derivatives of the cosine distance are not implemented");
    const variable_list a = ctx->get_saved_variables();
    const std::vector<torch::Tensor> b = ctx->saved_data.at("b").toTensorVector();
    torch::Tensor g_dot, g_squared;
    {
      torch::AutoGradMode enable(true);
      const torch::Tensor dot = ctx->saved_data.at("dot").toTensor().detach().requires_grad_(true);
      const torch::Tensor a_squared = ctx->saved_data.at("a_squared").toTensor().detach().requires_grad_(true);
      const torch::Tensor b_norm = ctx->saved_data.at("b_norm").toTensor();
      const auto g = torch::autograd::grad({CosineDistanceFromSums(dot, a_squared, b_norm)}, {dot, a_squared},
                                           {grads[0]});
      g_dot = g[0];
      g_squared = 2 * g[1];
    }
    variable_list out;
    for (size_t i = 0; i < a.size(); ++i) {
      out.push_back(ctx->needs_input_grad(i) ? at::mul(a[i], g_squared).add_(at::mul(b[i], g_dot)) : torch::Tensor());
    }
    out.emplace_back();  // the target
    return out;
  }
};

}  // namespace

torch::Tensor CosineDistance(const std::vector<torch::Tensor>& a, const std::vector<torch::Tensor>& b,
                             const torch::Tensor& b_norm) {
  TORCH_CHECK(a.size() == b.size() && !a.empty(), "cosine distance of ", a.size(), " and ", b.size(), " tensors");
  for (const auto& t : b) TORCH_CHECK(!t.requires_grad(), "the cosine distance's second operand must be a constant");
  const torch::Tensor nb = b_norm.defined() ? b_norm : ConcatenatedNorm(b);
  return CosineDistanceFunction::apply(at::TensorList(a), ConstantTarget{b, nb});
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
