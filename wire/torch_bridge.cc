#include "wire/torch_bridge.h"

#include <cstring>
#include <unordered_set>

#include <torch/torch.h>

#include "absl/strings/str_cat.h"

namespace biofed {
namespace {

absl::StatusOr<DType> WireDType(torch::ScalarType type) {
  switch (type) {
    case torch::kFloat32: return DType::kFloat32;
    case torch::kFloat64: return DType::kFloat64;
    case torch::kInt64: return DType::kInt64;
    case torch::kInt32: return DType::kInt32;
    case torch::kUInt8: return DType::kUInt8;
    default: return absl::InvalidArgumentError(absl::StrCat("no wire dtype for ", c10::toString(type)));
  }
}

torch::ScalarType TorchDType(DType type) {
  switch (type) {
    case DType::kFloat32: return torch::kFloat32;
    case DType::kFloat64: return torch::kFloat64;
    case DType::kInt64: return torch::kInt64;
    case DType::kInt32: return torch::kInt32;
    case DType::kUInt8: return torch::kUInt8;
  }
  return torch::kFloat32;
}

}  // namespace

absl::StatusOr<HostTensor> ToHostTensor(const std::string& name, const torch::Tensor& tensor, TensorRole role) {
  auto dtype = WireDType(tensor.scalar_type());
  if (!dtype.ok()) return absl::InvalidArgumentError(absl::StrCat(name, ": ", dtype.status().message()));
  const torch::Tensor cpu = tensor.detach().to(torch::kCPU).contiguous();
  HostTensor out;
  out.name = name;
  out.dtype = *dtype;
  out.shape.assign(cpu.sizes().begin(), cpu.sizes().end());
  out.role = role;
  out.bytes.assign(static_cast<const char*>(cpu.data_ptr()), cpu.numel() * cpu.element_size());
  return out;
}

torch::Tensor ToTorch(const HostTensor& t) {
  torch::Tensor out = torch::empty(t.shape, torch::TensorOptions().dtype(TorchDType(t.dtype)));
  if (!t.bytes.empty()) std::memcpy(out.data_ptr(), t.bytes.data(), t.bytes.size());
  return out;
}

torch::Tensor TorchView(const HostTensor& t) {
  if (t.bytes.empty()) return torch::empty(t.shape, torch::TensorOptions().dtype(TorchDType(t.dtype)));
  return torch::from_blob(const_cast<char*>(t.bytes.data()), t.shape,  // NOLINT: read through the view only
                          torch::TensorOptions().dtype(TorchDType(t.dtype)));
}

torch::Tensor WritableTorchView(HostTensor& t) {
  if (t.bytes.empty()) return torch::empty(t.shape, torch::TensorOptions().dtype(TorchDType(t.dtype)));
  return torch::from_blob(t.bytes.data(), t.shape, torch::TensorOptions().dtype(TorchDType(t.dtype)));
}

absl::StatusOr<HostTensor> UninitializedHostTensor(const std::string& name, const torch::Tensor& like,
                                                    TensorRole role) {
  auto dtype = WireDType(like.scalar_type());
  if (!dtype.ok()) return absl::InvalidArgumentError(absl::StrCat(name, ": ", dtype.status().message()));
  HostTensor out;
  out.name = name;
  out.dtype = *dtype;
  out.shape.assign(like.sizes().begin(), like.sizes().end());
  out.role = role;
  out.bytes.ResizeUninitialized(static_cast<size_t>(like.numel()) * DTypeSize(*dtype));
  return out;
}

TensorTable ModelStateTable(const Model& model) {
  std::unordered_set<std::string> parameters;
  for (const NamedTensor& p : model.named_parameters()) parameters.insert(p.name);
  TensorTable table;
  for (const NamedTensor& s : model.named_state()) {
    const TensorRole role = parameters.count(s.name) ? TensorRole::kParameter : TensorRole::kBuffer;
    // Model state is float32 or int64 (BatchNorm's batch counter): always wire-representable.
    table.push_back(ToHostTensor(s.name, s.tensor, role).value());
  }
  return table;
}

std::vector<NamedTensor> ToNamedTensors(const TensorTable& table) {
  std::vector<NamedTensor> out;
  out.reserve(table.size());
  for (const HostTensor& t : table) out.push_back({t.name, ToTorch(t)});
  return out;
}

std::vector<NamedTensor> NamedTensorViews(const TensorTable& table) {
  std::vector<NamedTensor> out;
  out.reserve(table.size());
  for (const HostTensor& t : table) out.push_back({t.name, TorchView(t)});
  return out;
}

}  // namespace biofed
