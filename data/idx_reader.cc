#include "data/idx_reader.h"

#include <zlib.h>

#include <cstring>
#include <filesystem>

#include <ATen/ATen.h>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

namespace biofed {
namespace {

constexpr uint32_t kLabelsMagic = 0x00000801;
constexpr uint32_t kImagesMagic = 0x00000803;

uint32_t ReadBigEndian32(const std::string& bytes, size_t offset) {
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data() + offset);
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}

absl::Status CheckMagic(const std::string& bytes, uint32_t expected, size_t header_size,
                        const std::string& source) {
  if (bytes.size() < 4) {
    return absl::DataLossError(absl::StrCat(source, ": too short for an IDX header (",
                                            bytes.size(), " bytes)"));
  }
  const uint32_t magic = ReadBigEndian32(bytes, 0);
  if (magic != expected) {
    return absl::DataLossError(absl::StrCat(source, ": bad IDX magic 0x", absl::Hex(magic),
                                            ", expected 0x", absl::Hex(expected)));
  }
  if (bytes.size() < header_size) {
    return absl::DataLossError(absl::StrCat(source, ": truncated IDX header"));
  }
  return absl::OkStatus();
}

absl::Status CheckPayloadSize(const std::string& bytes, size_t header, uint64_t expected,
                              const std::string& source) {
  const uint64_t actual = bytes.size() - header;
  if (actual < expected) {
    return absl::DataLossError(absl::StrCat(source, ": truncated: header promises ", expected,
                                            " data bytes, file has ", actual));
  }
  if (actual > expected) {
    return absl::DataLossError(absl::StrCat(source, ": wrong count: header promises ", expected,
                                            " data bytes, file has ", actual));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::string> ReadMaybeGzipped(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    return absl::NotFoundError(absl::StrCat(path, ": no such file"));
  }
  gzFile file = gzopen(path.c_str(), "rb");
  if (file == nullptr) return absl::InternalError(absl::StrCat(path, ": cannot open"));
  std::string out;
  char buffer[1 << 16];
  while (true) {
    const int n = gzread(file, buffer, sizeof(buffer));
    if (n < 0) {
      int code = 0;
      const std::string message = gzerror(file, &code);
      gzclose(file);
      return absl::DataLossError(absl::StrCat(path, ": corrupt compressed data: ", message));
    }
    if (n == 0) break;
    out.append(buffer, static_cast<size_t>(n));
  }
  const int close_code = gzclose(file);
  if (close_code == Z_BUF_ERROR) {
    return absl::DataLossError(absl::StrCat(path, ": truncated gzip stream"));
  }
  if (close_code != Z_OK) {
    return absl::DataLossError(absl::StrCat(path, ": error reading compressed data"));
  }
  return out;
}

absl::StatusOr<at::Tensor> ParseIdxImages(const std::string& bytes, const std::string& source) {
  constexpr size_t kHeader = 16;
  BIOFED_RETURN_IF_ERROR(CheckMagic(bytes, kImagesMagic, kHeader, source));
  const uint64_t n = ReadBigEndian32(bytes, 4);
  const uint64_t h = ReadBigEndian32(bytes, 8);
  const uint64_t w = ReadBigEndian32(bytes, 12);
  if (n == 0 || h == 0 || w == 0 || h > 4096 || w > 4096) {
    return absl::DataLossError(absl::StrCat(source, ": implausible image dimensions ", n, " x ",
                                            h, " x ", w));
  }
  BIOFED_RETURN_IF_ERROR(CheckPayloadSize(bytes, kHeader, n * h * w, source));
  at::Tensor images = at::empty({static_cast<int64_t>(n), 1, static_cast<int64_t>(h),
                                 static_cast<int64_t>(w)},
                                at::kByte);
  std::memcpy(images.data_ptr<uint8_t>(), bytes.data() + kHeader, n * h * w);
  return images;
}

absl::StatusOr<at::Tensor> ParseIdxLabels(const std::string& bytes, int64_t num_classes,
                                          const std::string& source) {
  constexpr size_t kHeader = 8;
  BIOFED_RETURN_IF_ERROR(CheckMagic(bytes, kLabelsMagic, kHeader, source));
  const uint64_t n = ReadBigEndian32(bytes, 4);
  if (n == 0) return absl::DataLossError(absl::StrCat(source, ": zero labels"));
  BIOFED_RETURN_IF_ERROR(CheckPayloadSize(bytes, kHeader, n, source));
  at::Tensor labels = at::empty({static_cast<int64_t>(n)}, at::kLong);
  int64_t* out = labels.data_ptr<int64_t>();
  for (uint64_t i = 0; i < n; ++i) {
    const auto label = static_cast<unsigned char>(bytes[kHeader + i]);
    if (label >= num_classes) {
      return absl::DataLossError(absl::StrCat(source, ": label ", int{label}, " of sample ", i,
                                              " is out of range [0, ", num_classes, ")"));
    }
    out[i] = label;
  }
  return labels;
}

absl::StatusOr<Dataset> LoadIdxDataset(const std::string& name, const std::string& images_path,
                                       const std::string& labels_path, int64_t num_classes) {
  BIOFED_ASSIGN_OR_RETURN(const std::string image_bytes, ReadMaybeGzipped(images_path));
  BIOFED_ASSIGN_OR_RETURN(const std::string label_bytes, ReadMaybeGzipped(labels_path));
  Dataset data;
  data.name = name;
  data.num_classes = num_classes;
  BIOFED_ASSIGN_OR_RETURN(data.images, ParseIdxImages(image_bytes, images_path));
  BIOFED_ASSIGN_OR_RETURN(data.labels, ParseIdxLabels(label_bytes, num_classes, labels_path));
  if (data.images.size(0) != data.labels.size(0)) {
    return absl::DataLossError(absl::StrCat(images_path, " holds ", data.images.size(0),
                                            " images but ", labels_path, " holds ",
                                            data.labels.size(0), " labels"));
  }
  return data;
}

}  // namespace biofed
