#include "models/imprint_block.h"

#include <torch/torch.h>

namespace biofed {

ImprintBlockImpl::ImprintBlockImpl(const ModelSpec& spec, ClassifierFactory classifier)
    : spec_(spec), factory_(std::move(classifier)) {
  reset();
}

void ImprintBlockImpl::reset() {
  const InputShape& in = spec_.input;
  const int64_t inputs = in.channels * in.height * in.width;
  // Registration order puts the block first: it is the model's first layer.
  bins_ = register_module("imprint_bins", torch::nn::Linear(inputs, spec_.imprint_bins));
  out_ = register_module("imprint_out", torch::nn::Linear(spec_.imprint_bins, inputs));
  ModelSpec classifier = spec_;
  classifier.imprint_bins = 0;
  model_ = factory_(classifier);
  register_module("model", model_.ptr());
}

torch::Tensor ImprintBlockImpl::forward(const torch::Tensor& x) {
  const torch::Tensor imprinted = out_->forward(torch::relu(bins_->forward(x.flatten(1))));
  return model_.forward(x + imprinted.view_as(x));
}

}  // namespace biofed
