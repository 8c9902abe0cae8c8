// Encodes 8-bit grey or RGB images as PNG (zlib deflate, CRC32 from zlib).
// Stateless; thread-safe.
#ifndef BIOFED_COMMON_PNG_WRITER_H_
#define BIOFED_COMMON_PNG_WRITER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace biofed {

// `pixels` is row-major, `channels` (1 or 3) bytes per pixel. Returns the
// PNG file's bytes, or INVALID_ARGUMENT for inconsistent sizes.
absl::StatusOr<std::string> EncodePng(const std::vector<uint8_t>& pixels, int64_t width,
                                      int64_t height, int channels);

}  // namespace biofed

#endif  // BIOFED_COMMON_PNG_WRITER_H_
