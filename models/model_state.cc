#include "models/model_state.h"

#include <map>

#include <torch/torch.h>

#include "absl/strings/str_cat.h"

namespace biofed {

absl::Status LoadState(const Model& model, const std::vector<NamedTensor>& state) {
  std::map<std::string, torch::Tensor> given;
  for (const NamedTensor& t : state) {
    if (!given.emplace(t.name, t.tensor).second) {
      return absl::InvalidArgumentError(absl::StrCat("state names '", t.name, "' twice"));
    }
  }
  const std::vector<NamedTensor> own = model.named_state();
  if (own.size() != given.size()) {
    return absl::InvalidArgumentError(absl::StrCat("state has ", given.size(), " tensors, the model ",
                                                   own.size()));
  }
  for (const NamedTensor& t : own) {
    auto it = given.find(t.name);
    if (it == given.end()) return absl::InvalidArgumentError(absl::StrCat("state lacks '", t.name, "'"));
    if (it->second.sizes() != t.tensor.sizes()) {
      return absl::InvalidArgumentError(absl::StrCat("'", t.name, "' has shape ",
                                                     c10::str(it->second.sizes()), ", the model ",
                                                     c10::str(t.tensor.sizes())));
    }
  }
  torch::NoGradGuard no_grad;
  for (const NamedTensor& t : own) t.tensor.copy_(given[t.name]);
  return absl::OkStatus();
}

std::vector<NamedTensor> CopyState(const Model& model) {
  std::vector<NamedTensor> out;
  for (const NamedTensor& t : model.named_state()) out.push_back({t.name, t.tensor.detach().cpu().clone()});
  return out;
}

}  // namespace biofed
