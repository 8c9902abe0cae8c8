// Converting between LibTorch tensors and host tensors: copies to and from
// contiguous CPU memory, and read-only views that copy nothing.
// Thread-safe.
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

// A CPU tensor over `tensor`'s own bytes, no copy: valid while `tensor`'s
// bytes live and keep their size (moving the HostTensor keeps them); only
// for reading (e.g. the source of a copy_).
torch::Tensor TorchView(const HostTensor& tensor);
// The same, for computing into `tensor`'s bytes.
torch::Tensor WritableTorchView(HostTensor& tensor);
// A CPU HostTensor of `like`'s shape and dtype, its bytes not initialised
// (to be filled through WritableTorchView). INVALID_ARGUMENT as ToHostTensor.
absl::StatusOr<HostTensor> UninitializedHostTensor(const std::string& name, const torch::Tensor& like,
                                                    TensorRole role);

// The model's parameters (role parameter) and buffers (role buffer).
TensorTable ModelStateTable(const Model& model);

std::vector<NamedTensor> ToNamedTensors(const TensorTable& table);
// TorchView of every tensor of `table`.
std::vector<NamedTensor> NamedTensorViews(const TensorTable& table);

}  // namespace biofed

#endif  // BIOFED_WIRE_TORCH_BRIDGE_H_
