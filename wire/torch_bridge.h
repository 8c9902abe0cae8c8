// Converting between LibTorch tensors and host tensors (always copies, to
// and from contiguous CPU memory). Thread-safe.
#ifndef BIOFED_WIRE_TORCH_BRIDGE_H_
#define BIOFED_WIRE_TORCH_BRIDGE_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "models/model.h"
#include "wire/host_tensor.h"

namespace biofed {

// INVALID_ARGUMENT for a dtype the wire format has no name for.
absl::StatusOr<HostTensor> ToHostTensor(const std::string& name, const torch::Tensor& tensor, TensorRole role);

// A CPU tensor holding a copy of `tensor`'s bytes.
torch::Tensor ToTorch(const HostTensor& tensor);

// The model's parameters (role parameter) and buffers (role buffer).
TensorTable ModelStateTable(const Model& model);

std::vector<NamedTensor> ToNamedTensors(const TensorTable& table);

}  // namespace biofed

#endif  // BIOFED_WIRE_TORCH_BRIDGE_H_
