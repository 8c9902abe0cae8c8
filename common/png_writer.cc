#include "common/png_writer.h"

#include <zlib.h>

#include "absl/strings/str_cat.h"

namespace biofed {
namespace {

void AppendBigEndian(std::string& out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>((v >> shift) & 0xff));
}

void AppendChunk(std::string& out, const char type[4], const std::string& data) {
  AppendBigEndian(out, static_cast<uint32_t>(data.size()));
  std::string body(type, 4);
  body += data;
  out += body;
  AppendBigEndian(out, static_cast<uint32_t>(
                           crc32(0, reinterpret_cast<const Bytef*>(body.data()), static_cast<uInt>(body.size()))));
}

}  // namespace

absl::StatusOr<std::string> EncodePng(const std::vector<uint8_t>& pixels, int64_t width,
                                      int64_t height, int channels) {
  if ((channels != 1 && channels != 3) || width <= 0 || height <= 0 ||
      static_cast<int64_t>(pixels.size()) != width * height * channels) {
    return absl::InvalidArgumentError(absl::StrCat("PNG: ", pixels.size(), " bytes do not make a ",
                                                   width, "x", height, "x", channels, " image"));
  }
  // Each scanline is prefixed with filter type 0 (none).
  std::string raw;
  raw.reserve(static_cast<size_t>(height * (width * channels + 1)));
  for (int64_t y = 0; y < height; ++y) {
    raw.push_back('\0');
    raw.append(reinterpret_cast<const char*>(pixels.data() + y * width * channels),
               static_cast<size_t>(width * channels));
  }
  uLongf compressed_size = compressBound(static_cast<uLong>(raw.size()));
  std::string compressed(compressed_size, '\0');
  if (compress2(reinterpret_cast<Bytef*>(compressed.data()), &compressed_size,
                reinterpret_cast<const Bytef*>(raw.data()), static_cast<uLong>(raw.size()), 9) != Z_OK) {
    return absl::InternalError("PNG: deflate failed");
  }
  compressed.resize(compressed_size);
  std::string header;
  AppendBigEndian(header, static_cast<uint32_t>(width));
  AppendBigEndian(header, static_cast<uint32_t>(height));
  header.push_back(8);                          // bit depth
  header.push_back(channels == 1 ? 0 : 2);      // colour type: grey or RGB
  header.append({'\0', '\0', '\0'});            // compression, filter, interlace
  std::string png("\x89PNG\r\n\x1a\n", 8);
  AppendChunk(png, "IHDR", header);
  AppendChunk(png, "IDAT", compressed);
  AppendChunk(png, "IEND", "");
  return png;
}

}  // namespace biofed
