// CRC-32C computed bit at a time straight from the definition (reflected
// polynomial 0x82F63B78), independent of the library's table and SSE4.2
// code: the expected value in tests of anything that checksums.
#ifndef BIOFED_TESTS_TESTING_CRC32C_REFERENCE_H_
#define BIOFED_TESTS_TESTING_CRC32C_REFERENCE_H_

#include <cstdint>
#include <string_view>

namespace biofed::testing {

inline uint32_t BitwiseCrc32c(std::string_view bytes) {
  uint32_t crc = 0xFFFFFFFFu;
  for (unsigned char c : bytes) {
    crc ^= c;
    for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0x82F63B78u & (0u - (crc & 1u)));
  }
  return ~crc;
}

}  // namespace biofed::testing

#endif  // BIOFED_TESTS_TESTING_CRC32C_REFERENCE_H_
