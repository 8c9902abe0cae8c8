#include "wire/host_tensor.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/untrusted_text.h"

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
    if (d < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("negative dimension in shape ", EscapedForLog(ShapeString(shape))));
    }
    if (d != 0 && bytes > max_bytes / static_cast<uint64_t>(d)) {
      return absl::ResourceExhaustedError(absl::StrCat("shape ", EscapedForLog(ShapeString(shape)),
                                                       " exceeds the size limit of ", max_bytes, " bytes"));
    }
    bytes *= static_cast<uint64_t>(d);
  }
  if (bytes > max_bytes) {
    return absl::ResourceExhaustedError(
        absl::StrCat("shape ", EscapedForLog(ShapeString(shape)), " exceeds the size limit of ", max_bytes, " bytes"));
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

namespace {

// A large copy: the bytes up to the first 16-byte-aligned destination
// address and after the last whole 64 bytes by memcpy, the rest with
// non-temporal stores. Each 32-bit word streamed in a lane set in `lanes`
// is tested for having every bit of `pattern` (same lane) set.
struct StreamedCopy {
  size_t head = 0;  // bytes before the streamed part
  size_t body = 0;  // bytes streamed: from a 16-byte-aligned destination, a multiple of 64
  bool pattern_found = false;
};

#if defined(__SSE2__)
StreamedCopy CopyStreaming(char* destination, const char* source, size_t size, __m128i pattern, __m128i lanes) {
  StreamedCopy copy;
  copy.head = std::min(size, (16 - (reinterpret_cast<uintptr_t>(destination) & 15)) & 15);
  copy.body = (size - copy.head) / 64 * 64;
  __m128i found = _mm_setzero_si128();
  const char* from = source + copy.head;
  char* to = destination + copy.head;
  for (size_t done = 0; done < copy.body; done += 64, from += 64, to += 64) {
    const __m128i* in = reinterpret_cast<const __m128i*>(from);
    __m128i* out = reinterpret_cast<__m128i*>(to);
    const __m128i a = _mm_loadu_si128(in), b = _mm_loadu_si128(in + 1);
    const __m128i c = _mm_loadu_si128(in + 2), d = _mm_loadu_si128(in + 3);
    _mm_stream_si128(out, a);
    _mm_stream_si128(out + 1, b);
    _mm_stream_si128(out + 2, c);
    _mm_stream_si128(out + 3, d);
    const __m128i ab = _mm_or_si128(_mm_cmpeq_epi32(_mm_and_si128(a, pattern), pattern),
                                    _mm_cmpeq_epi32(_mm_and_si128(b, pattern), pattern));
    const __m128i cd = _mm_or_si128(_mm_cmpeq_epi32(_mm_and_si128(c, pattern), pattern),
                                    _mm_cmpeq_epi32(_mm_and_si128(d, pattern), pattern));
    found = _mm_or_si128(found, _mm_and_si128(_mm_or_si128(ab, cd), lanes));
  }
  _mm_sfence();
  std::memcpy(destination, source, copy.head);
  std::memcpy(to, from, size - copy.head - copy.body);
  copy.pattern_found = _mm_movemask_epi8(found) != 0;
  return copy;
}
#endif

// FiniteValues over the values wholly inside tensor bytes [from, to) of a
// copy whose source starts at tensor offset `offset`.
bool WholeValuesFinite(DType dtype, const char* source, uint64_t offset, uint64_t from, uint64_t to) {
  const uint64_t value_bytes = DTypeSize(dtype);
  const uint64_t first = (from + value_bytes - 1) / value_bytes * value_bytes;
  const uint64_t last = to / value_bytes * value_bytes;
  return first >= last || FiniteValues(dtype, source + (first - offset), last - first);
}

}  // namespace

void CopyBypassingCache(char* destination, const char* source, size_t size) {
#if defined(__SSE2__)
  if (size >= 4096) {
    CopyStreaming(destination, source, size, _mm_setzero_si128(), _mm_setzero_si128());
    return;
  }
#endif
  std::memcpy(destination, source, size);
}

bool CopyFiniteBypassingCache(DType dtype, uint64_t offset, char* destination, const char* source, size_t size) {
  if (dtype != DType::kFloat32 && dtype != DType::kFloat64) {
    CopyBypassingCache(destination, source, size);
    return true;
  }
#if defined(__SSE2__)
  // The streamed blocks must hold whole values: true when the tensor itself
  // starts 16-byte aligned, as allocations do.
  const uintptr_t tensor_start = reinterpret_cast<uintptr_t>(destination) - offset;
  if (size >= 4096 && tensor_start % 16 == 0) {
    // A value is NaN or infinite when its exponent bits are all ones; a
    // double's exponent lies in its upper 32-bit half.
    const bool single = dtype == DType::kFloat32;
    const StreamedCopy copy = CopyStreaming(
        destination, source, size, single ? _mm_set1_epi32(0x7F800000) : _mm_set_epi32(0x7FF00000, 0, 0x7FF00000, 0),
        single ? _mm_set1_epi32(-1) : _mm_set_epi32(-1, 0, -1, 0));
    // The streamed part starts and ends 16-byte aligned, so no value
    // straddles its edges.
    return !copy.pattern_found && WholeValuesFinite(dtype, source, offset, offset, offset + copy.head) &&
           WholeValuesFinite(dtype, source, offset, offset + copy.head + copy.body, offset + size);
  }
#endif
  const bool finite = WholeValuesFinite(dtype, source, offset, offset, offset + size);
  CopyBypassingCache(destination, source, size);
  return finite;
}

}  // namespace biofed
