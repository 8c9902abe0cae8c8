#include "wire/crc32c.h"

#include <array>
#include <cstring>

namespace biofed {
namespace {

constexpr uint32_t kPolynomial = 0x82F63B78u;  // reflected Castagnoli

std::array<uint32_t, 256> MakeTable() {
  std::array<uint32_t, 256> table{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ kPolynomial : c >> 1;
    table[i] = c;
  }
  return table;
}

uint32_t SoftwareCrc(const uint8_t* p, size_t n, uint32_t crc) {
  static const std::array<uint32_t, 256> table = MakeTable();
  for (size_t i = 0; i < n; ++i) crc = table[(crc ^ p[i]) & 0xFF] ^ (crc >> 8);
  return crc;
}

#if defined(__x86_64__)
__attribute__((target("sse4.2"))) uint32_t HardwareCrc(const uint8_t* p, size_t n, uint32_t crc) {
  uint64_t c = crc;
  while (n >= 8) {
    uint64_t word;
    std::memcpy(&word, p, 8);
    c = __builtin_ia32_crc32di(c, word);
    p += 8;
    n -= 8;
  }
  uint32_t c32 = static_cast<uint32_t>(c);
  while (n > 0) {
    c32 = __builtin_ia32_crc32qi(c32, *p);
    ++p;
    --n;
  }
  return c32;
}

// The crc32 instruction has a latency of about three cycles but can start
// one per cycle, so three independent streams over three adjacent blocks
// run about three times as fast as one. The three partial registers are
// then joined: the register after block A then block B equals A's register
// advanced over len(B) zero bytes, XOR B's register started from zero.
// Advancing over a fixed number of zero bytes is linear in the register,
// so it is four table lookups.
constexpr size_t kStreamBytes = 4096;

struct ZeroAdvance {
  std::array<std::array<uint32_t, 256>, 4> table{};

  // The register `value` advanced over `zero_bytes` zero bytes.
  static uint32_t Slow(uint32_t value, size_t zero_bytes) {
    static const uint8_t zeros[kStreamBytes] = {};
    return HardwareCrc(zeros, zero_bytes, value);
  }

  explicit ZeroAdvance(size_t zero_bytes) {
    uint32_t basis[32];
    for (int bit = 0; bit < 32; ++bit) basis[bit] = Slow(uint32_t{1} << bit, zero_bytes);
    for (int byte = 0; byte < 4; ++byte) {
      for (uint32_t v = 0; v < 256; ++v) {
        uint32_t out = 0;
        for (int bit = 0; bit < 8; ++bit) {
          if (v & (1u << bit)) out ^= basis[byte * 8 + bit];
        }
        table[byte][v] = out;
      }
    }
  }

  uint32_t operator()(uint32_t value) const {
    return table[0][value & 0xFF] ^ table[1][(value >> 8) & 0xFF] ^ table[2][(value >> 16) & 0xFF] ^
           table[3][value >> 24];
  }
};

__attribute__((target("sse4.2"))) uint32_t InterleavedHardwareCrc(const uint8_t* p, size_t n, uint32_t crc) {
  static const ZeroAdvance advance(kStreamBytes);
  while (n >= 3 * kStreamBytes) {
    uint64_t a = crc, b = 0, c = 0;
    const uint8_t* pa = p;
    const uint8_t* pb = p + kStreamBytes;
    const uint8_t* pc = p + 2 * kStreamBytes;
    for (size_t i = 0; i < kStreamBytes; i += 8) {
      uint64_t wa, wb, wc;
      std::memcpy(&wa, pa + i, 8);
      std::memcpy(&wb, pb + i, 8);
      std::memcpy(&wc, pc + i, 8);
      a = __builtin_ia32_crc32di(a, wa);
      b = __builtin_ia32_crc32di(b, wb);
      c = __builtin_ia32_crc32di(c, wc);
    }
    const uint32_t ab = advance(static_cast<uint32_t>(a)) ^ static_cast<uint32_t>(b);
    crc = advance(ab) ^ static_cast<uint32_t>(c);
    p += 3 * kStreamBytes;
    n -= 3 * kStreamBytes;
  }
  return HardwareCrc(p, n, crc);
}

bool HaveSse42() {
  static const bool have = __builtin_cpu_supports("sse4.2");
  return have;
}
#endif

}  // namespace

bool Crc32cEngineAvailable(Crc32cEngine engine) {
  switch (engine) {
    case Crc32cEngine::kTable:
      return true;
#if defined(__x86_64__)
    case Crc32cEngine::kInstruction:
      return HaveSse42();
#endif
    default:
      return false;
  }
}

uint32_t Crc32cUsing(Crc32cEngine engine, const void* data, size_t size, uint32_t crc) {
  const auto* p = static_cast<const uint8_t*>(data);
  const uint32_t c = ~crc;
#if defined(__x86_64__)
  if (engine == Crc32cEngine::kInstruction && HaveSse42()) return ~InterleavedHardwareCrc(p, size, c);
#endif
  return ~SoftwareCrc(p, size, c);
}

uint32_t Crc32c(const void* data, size_t size, uint32_t crc) {
  static const Crc32cEngine fastest =
      Crc32cEngineAvailable(Crc32cEngine::kInstruction) ? Crc32cEngine::kInstruction : Crc32cEngine::kTable;
  return Crc32cUsing(fastest, data, size, crc);
}

}  // namespace biofed
