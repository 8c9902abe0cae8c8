#include "wire/host_tensor.h"

#include <cmath>
#include <cstring>
#include <limits>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace biofed {

size_t DTypeSize(DType dtype) {
  switch (dtype) {
    case DType::kFloat32: return 4;
    case DType::kFloat64: return 8;
    case DType::kInt64: return 8;
    case DType::kInt32: return 4;
    case DType::kUInt8: return 1;
  }
  return 0;
}

std::string DTypeName(DType dtype) {
  switch (dtype) {
    case DType::kFloat32: return "float32";
    case DType::kFloat64: return "float64";
    case DType::kInt64: return "int64";
    case DType::kInt32: return "int32";
    case DType::kUInt8: return "uint8";
  }
  return "unknown";
}

absl::StatusOr<DType> DTypeFromInt(int value) {
  if (value >= 1 && value <= 5) return static_cast<DType>(value);
  return absl::InvalidArgumentError(absl::StrCat("unknown dtype ", value));
}

absl::StatusOr<TensorRole> TensorRoleFromInt(int value) {
  if (value == 1 || value == 2) return static_cast<TensorRole>(value);
  return absl::InvalidArgumentError(absl::StrCat("unknown tensor role ", value));
}

absl::StatusOr<uint64_t> CheckedByteCount(const std::vector<int64_t>& shape, DType dtype, uint64_t max_bytes) {
  uint64_t bytes = DTypeSize(dtype);
  for (int64_t d : shape) {
    if (d < 0) return absl::InvalidArgumentError(absl::StrCat("negative dimension in shape ", ShapeString(shape)));
    if (d != 0 && bytes > max_bytes / static_cast<uint64_t>(d)) {
      return absl::ResourceExhaustedError(
          absl::StrCat("shape ", ShapeString(shape), " exceeds the size limit of ", max_bytes, " bytes"));
    }
    bytes *= static_cast<uint64_t>(d);
  }
  if (bytes > max_bytes) {
    return absl::ResourceExhaustedError(
        absl::StrCat("shape ", ShapeString(shape), " exceeds the size limit of ", max_bytes, " bytes"));
  }
  return bytes;
}

std::string ShapeString(const std::vector<int64_t>& shape) { return absl::StrCat("[", absl::StrJoin(shape, ", "), "]"); }

const HostTensor* FindTensor(const TensorTable& table, const std::string& name) {
  for (const HostTensor& t : table) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

namespace {

// A float is NaN or infinite exactly when its exponent bits are all ones.
// OR-reducing that test over the raw bits vectorises, unlike a branch per
// element.
template <typename Bits>
bool FiniteBits(const char* p, size_t size, Bits exponent_mask) {
  const size_t n = size / sizeof(Bits);
  Bits any_bad = 0;
  for (size_t i = 0; i < n; ++i) {
    Bits v;
    std::memcpy(&v, p + i * sizeof(Bits), sizeof(Bits));
    any_bad |= static_cast<Bits>((v & exponent_mask) == exponent_mask);
  }
  return any_bad == 0;
}

}  // namespace

bool FiniteValues(DType dtype, const char* data, size_t size) {
  if (dtype == DType::kFloat32) return FiniteBits<uint32_t>(data, size, 0x7F800000u);
  if (dtype == DType::kFloat64) return FiniteBits<uint64_t>(data, size, 0x7FF0000000000000ull);
  return true;
}

}  // namespace biofed
