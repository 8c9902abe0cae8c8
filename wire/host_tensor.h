// Tensors as plain bytes on the host: what travels on the wire, what the
// server aggregates and what a checkpoint stores. No LibTorch, so the
// server core, the codec and their fuzz targets build without it. Values
// are raw little-endian bytes in row-major order. Plain data; thread-safe.
#ifndef BIOFED_WIRE_HOST_TENSOR_H_
#define BIOFED_WIRE_HOST_TENSOR_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "wire/host_bytes.h"

namespace biofed {

enum class DType : int { kFloat32 = 1, kFloat64 = 2, kInt64 = 3, kInt32 = 4, kUInt8 = 5 };
enum class TensorRole : int { kParameter = 1, kBuffer = 2 };

struct HostTensor {
  std::string name;
  DType dtype = DType::kFloat32;
  std::vector<int64_t> shape;
  TensorRole role = TensorRole::kParameter;
  HostBytes bytes;  // ElementCount(shape) * DTypeSize(dtype) bytes

  const float* floats() const { return reinterpret_cast<const float*>(bytes.data()); }
  float* mutable_floats() { return reinterpret_cast<float*>(bytes.data()); }
};

using TensorTable = std::vector<HostTensor>;

size_t DTypeSize(DType dtype);
std::string DTypeName(DType dtype);
absl::StatusOr<DType> DTypeFromInt(int value);
absl::StatusOr<TensorRole> TensorRoleFromInt(int value);

// The number of elements of `shape`; INVALID_ARGUMENT for a negative
// dimension, RESOURCE_EXHAUSTED when the product or its byte count would
// exceed `max_bytes` (checked without overflow).
absl::StatusOr<uint64_t> CheckedByteCount(const std::vector<int64_t>& shape, DType dtype, uint64_t max_bytes);

std::string ShapeString(const std::vector<int64_t>& shape);

// The tensor named `name`, or nullptr.
const HostTensor* FindTensor(const TensorTable& table, const std::string& name);

// True unless `dtype` is floating point and one of the whole values in the
// `size` bytes at `data` is a NaN or infinite.
bool FiniteValues(DType dtype, const char* data, size_t size);

// memcpy for a destination that will not be read again soon: large copies
// use non-temporal stores, which skip reading the destination's cache lines
// first and leave the cache to the source. Ends with a store fence, so the
// bytes are ordered before whatever the caller does next.
void CopyBypassingCache(char* destination, const char* source, size_t size);

// CopyBypassingCache(destination, source, size) and FiniteValues of the
// copied values in one pass: the finiteness test rides on the copy's loads,
// which wait on memory anyway. `offset` is the byte offset of `destination`
// in its tensor (values start at multiples of their size); only values
// wholly inside the `size` bytes are tested.
bool CopyFiniteBypassingCache(DType dtype, uint64_t offset, char* destination, const char* source, size_t size);

}  // namespace biofed

#endif  // BIOFED_WIRE_HOST_TENSOR_H_
