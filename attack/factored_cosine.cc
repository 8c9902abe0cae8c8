#include "attack/factored_cosine.h"

#include <algorithm>
#include <map>
#include <utility>

#include <torch/torch.h>

#include "attack/gradient_matching.h"
#include "models/conv2d.h"
#include "models/layer_tape.h"
#include "models/weight_split.h"

namespace biofed {
namespace {

using torch::Tensor;
namespace F = torch::nn::functional;

// N: the rows (examples x output positions) the layer's weight gradient sums over.
int64_t Rows(const TapedLayer& l) {
  if (l.convolution) return l.output.size(0) * l.output.size(2) * l.output.size(3);
  return l.output.numel() / l.output.size(-1);
}

// Whether the factored form is the cheaper one, in multiply-adds and
// weight-sized passes (K x out per weight): forming the gradient costs
// N K out, and with it the cosine, its gradient and the second-order
// backward through the gradient make about 3 N K out plus 8 passes; the
// factored form makes 2 N K out (the product with T and its backward), 2
// passes, and 3 N^2 (K + out) for the Gram matrices and their backward.
bool WorthFactoring(const TapedLayer& l) {
  const int64_t n = Rows(l), out = l.weight.size(0) / l.split_gamma, k = l.weight.numel() / l.weight.size(0);
  return 3 * n * n * (k + out) <= n * k * out + 6 * k * out;
}

// The taped layers to factor, by the index of their weight among `params`:
// chosen by `factoring`, and the only use of a parameter of the model on
// the tape (a weight used twice has a gradient no single layer's factors
// give; uses off the tape, which no model here makes, are LayerTape's
// contract).
std::map<size_t, TapedLayer> LayersToFactor(const std::vector<Tensor>& params, const std::vector<TapedLayer>& taped,
                                            Factoring factoring) {
  std::map<size_t, TapedLayer> factored;
  for (const TapedLayer& l : taped) {
    const auto same_weight = [&](const auto& other) { return other.weight.is_same(l.weight); };
    const auto param = std::find_if(params.begin(), params.end(), [&](const Tensor& p) { return p.is_same(l.weight); });
    if (param == params.end() || std::count_if(taped.begin(), taped.end(), same_weight) != 1 ||
        (factoring == Factoring::kWhereCheaper && !WorthFactoring(l))) {
      continue;
    }
    TORCH_CHECK(l.output._version() == l.output_version,
                "a taped layer's output was modified in place after the layer ran: its gradient is not dL/dy");
    factored.emplace(static_cast<size_t>(param - params.begin()), l);
  }
  return factored;
}

// <G, t> and ||G||^2 for the raw weight gradient G of layer `l`, from
// d = dL/d(output). Under WS the raw rows of a block share the applied
// weight's gradient G_a: <G, t> = <G_a, BlockSum(t)>, ||G||^2 = gamma ||G_a||^2.
std::pair<Tensor, Tensor> FactoredSums(const TapedLayer& l, const Tensor& d, const Tensor& t) {
  const Tensor applied_t = l.split_gamma > 1 ? BlockSum(t, l.split_gamma) : t;
  Tensor product, x_rows, d_rows;
  if (l.convolution) {
    product = Conv2d(l.input, applied_t, Tensor(), l.stride, l.padding);
    const Tensor patches = F::unfold(l.input, F::UnfoldFuncOptions(l.kernel).padding(l.padding).stride(l.stride));
    x_rows = patches.transpose(1, 2).reshape({-1, patches.size(1)});
    d_rows = d.flatten(2).transpose(1, 2).reshape({-1, d.size(1)});
  } else {
    product = F::linear(l.input, applied_t);
    x_rows = l.input.reshape({-1, l.input.size(-1)});
    d_rows = d.reshape({-1, d.size(-1)});
  }
  // A trace of the product of two positive semi-definite matrices: >= 0,
  // clamped so that rounding cannot make it negative.
  const Tensor squared = (x_rows.mm(x_rows.t()) * d_rows.mm(d_rows.t())).sum().clamp_min(0);
  return {(d * product).sum(), l.split_gamma > 1 ? squared * static_cast<double>(l.split_gamma) : squared};
}

// <g, target> and ||g||^2 over all parameters, from `grads`: per parameter
// its gradient, or for a factored layer's weight dL/d(output).
std::pair<Tensor, Tensor> Sums(const std::vector<Tensor>& grads, const std::map<size_t, TapedLayer>& factored,
                               const std::vector<Tensor>& target) {
  Tensor dot = torch::zeros({}, grads.front().options()), squared = torch::zeros({}, grads.front().options());
  for (size_t i = 0; i < grads.size(); ++i) {
    const auto f = factored.find(i);
    if (f != factored.end()) {
      const auto [layer_dot, layer_squared] = FactoredSums(f->second, grads[i], target[i]);
      dot = dot + layer_dot;
      squared = squared + layer_squared;
    } else {
      const Tensor g = grads[i].reshape(-1);
      dot = dot + torch::dot(g, target[i].reshape(-1));
      squared = squared + torch::dot(g, g);
    }
  }
  return {dot, squared};
}

}  // namespace

Tensor CandidateCosineDistance(const Model& model, const Tensor& images, const Tensor& targets,
                               const std::vector<Tensor>& target, const Tensor& target_norm, Factoring factoring) {
  const std::vector<Tensor> params = model.parameters();
  TORCH_CHECK(target.size() == params.size(), "the target has ", target.size(), " tensors, the model ",
              params.size(), " parameters");
  Tensor loss;
  std::vector<TapedLayer> taped;
  {
    LayerTape tape;
    loss = CandidateLoss(model, images, targets);
    taped = tape.layers();
  }
  const std::map<size_t, TapedLayer> factored = LayersToFactor(params, taped, factoring);
  if (factored.empty()) {
    return CosineDistance(torch::autograd::grad({loss}, params, /*grad_outputs=*/{}, /*retain_graph=*/true,
                                                /*create_graph=*/true),
                          target, target_norm);
  }
  std::vector<Tensor> wrt;  // per parameter: the parameter, or the output of its factored layer
  for (size_t i = 0; i < params.size(); ++i) {
    const auto f = factored.find(i);
    wrt.push_back(f == factored.end() ? params[i] : f->second.output);
  }
  const auto grads = torch::autograd::grad({loss}, wrt, /*grad_outputs=*/{}, /*retain_graph=*/true,
                                           /*create_graph=*/true);
  const auto [dot, squared] = Sums(grads, factored, target);
  return CosineDistanceFromSums(dot, squared, target_norm);
}

}  // namespace biofed
