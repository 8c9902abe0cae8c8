// The "imprint" block of a malicious server (Fowl et al., Robbing the Fed,
// ICLR 2022) in front of any classifier: a Linear layer of n bins on the
// flattened input, ReLU, and a Linear layer back to the input's size, added
// to the input: y = x + out(relu(bins(flatten(x)))), then the classifier.
// Its values are the server's (attack/imprint.h sets the construction); built
// here with LibTorch's default initialisation. Parameter names: imprint_bins,
// imprint_out, then the classifier's under "model.". Not thread-safe.
#ifndef BIOFED_MODELS_IMPRINT_BLOCK_H_
#define BIOFED_MODELS_IMPRINT_BLOCK_H_

#include <functional>

#include <torch/nn/cloneable.h>
#include <torch/nn/modules/container/any.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>

#include "models/model_spec.h"

namespace biofed {

// Builds the classifier behind the block (the spec without its imprint).
using ClassifierFactory = std::function<torch::nn::AnyModule(const ModelSpec&)>;

class ImprintBlockImpl : public torch::nn::Cloneable<ImprintBlockImpl> {
 public:
  ImprintBlockImpl(const ModelSpec& spec, ClassifierFactory classifier);
  void reset() override;
  torch::Tensor forward(const torch::Tensor& x);

 private:
  ModelSpec spec_;
  ClassifierFactory factory_;
  torch::nn::Linear bins_{nullptr}, out_{nullptr};
  torch::nn::AnyModule model_;
};
TORCH_MODULE(ImprintBlock);

}  // namespace biofed

#endif  // BIOFED_MODELS_IMPRINT_BLOCK_H_
