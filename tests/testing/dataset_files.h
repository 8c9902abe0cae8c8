// Builders of small dataset files in the standard formats, written in the
// test from the format specifications (not from the readers under test).
#ifndef BIOFED_TESTS_TESTING_DATASET_FILES_H_
#define BIOFED_TESTS_TESTING_DATASET_FILES_H_

#include <zlib.h>

#include <cstdint>
#include <string>
#include <vector>

namespace biofed::testing {

inline void AppendBigEndian32(std::string& out, uint32_t v) {
  out.push_back(static_cast<char>(v >> 24));
  out.push_back(static_cast<char>(v >> 16));
  out.push_back(static_cast<char>(v >> 8));
  out.push_back(static_cast<char>(v));
}

// IDX images: magic 0x803, N, H, W, then pixel (i, r, c) = (i + r * W + c) % 256.
inline std::string IdxImages(uint32_t n, uint32_t h, uint32_t w) {
  std::string out;
  AppendBigEndian32(out, 0x00000803);
  AppendBigEndian32(out, n);
  AppendBigEndian32(out, h);
  AppendBigEndian32(out, w);
  for (uint32_t i = 0; i < n; ++i)
    for (uint32_t p = 0; p < h * w; ++p) out.push_back(static_cast<char>((i + p) % 256));
  return out;
}

// IDX labels: magic 0x801, N, then the given labels.
inline std::string IdxLabels(const std::vector<uint8_t>& labels) {
  std::string out;
  AppendBigEndian32(out, 0x00000801);
  AppendBigEndian32(out, static_cast<uint32_t>(labels.size()));
  for (uint8_t l : labels) out.push_back(static_cast<char>(l));
  return out;
}

// A gzip file's bytes for `raw` (zlib's gzip wrapper, windowBits 15 + 16).
inline std::string Gzip(const std::string& raw) {
  z_stream zs{};
  deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&zs, raw.size()) + 64, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(raw.data()));
  zs.avail_in = static_cast<uInt>(raw.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  deflate(&zs, Z_FINISH);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

// CIFAR records: [coarse] label, then 3072 pixels (value (i * 7 + p) % 256).
inline std::string CifarRecords(const std::vector<uint8_t>& labels, bool cifar100) {
  std::string out;
  for (size_t i = 0; i < labels.size(); ++i) {
    if (cifar100) out.push_back(static_cast<char>(labels[i] / 5));  // coarse label
    out.push_back(static_cast<char>(labels[i]));
    for (int p = 0; p < 3072; ++p) out.push_back(static_cast<char>((i * 7 + p) % 256));
  }
  return out;
}

}  // namespace biofed::testing

#endif  // BIOFED_TESTS_TESTING_DATASET_FILES_H_
