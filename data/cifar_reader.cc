#include "data/cifar_reader.h"

#include <cstring>

#include <ATen/ATen.h>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "data/idx_reader.h"

namespace biofed {
namespace {
constexpr size_t kPixels = 3 * 32 * 32;
}  // namespace

absl::StatusOr<Dataset> ParseCifar(const std::string& bytes, CifarVariant variant,
                                   const std::string& source) {
  const size_t label_bytes = variant == CifarVariant::kCifar10 ? 1 : 2;
  const int64_t num_classes = variant == CifarVariant::kCifar10 ? 10 : 100;
  const size_t record = label_bytes + kPixels;
  if (bytes.empty()) return absl::DataLossError(absl::StrCat(source, ": empty file"));
  if (bytes.size() % record != 0) {
    return absl::DataLossError(absl::StrCat(source, ": truncated: ", bytes.size(),
                                            " bytes is not a whole number of ", record,
                                            "-byte records"));
  }
  const int64_t n = static_cast<int64_t>(bytes.size() / record);
  Dataset data;
  data.name = variant == CifarVariant::kCifar10 ? "cifar10" : "cifar100";
  data.num_classes = num_classes;
  data.images = at::empty({n, 3, 32, 32}, at::kByte);
  data.labels = at::empty({n}, at::kLong);
  auto* images = data.images.data_ptr<uint8_t>();
  auto* labels = data.labels.data_ptr<int64_t>();
  for (int64_t i = 0; i < n; ++i) {
    const char* rec = bytes.data() + i * record;
    const int label = static_cast<unsigned char>(rec[label_bytes - 1]);
    if (label >= num_classes) {
      return absl::DataLossError(absl::StrCat(source, ": label ", label, " of record ", i,
                                              " is out of range [0, ", num_classes, ")"));
    }
    labels[i] = label;
    std::memcpy(images + i * kPixels, rec + label_bytes, kPixels);
  }
  return data;
}

absl::StatusOr<Dataset> LoadCifarFiles(const std::vector<std::string>& paths,
                                       CifarVariant variant) {
  std::vector<at::Tensor> images, labels;
  Dataset merged;
  for (const std::string& path : paths) {
    BIOFED_ASSIGN_OR_RETURN(const std::string bytes, ReadMaybeGzipped(path));
    BIOFED_ASSIGN_OR_RETURN(Dataset part, ParseCifar(bytes, variant, path));
    images.push_back(part.images);
    labels.push_back(part.labels);
    merged.name = part.name;
    merged.num_classes = part.num_classes;
  }
  if (paths.empty()) return absl::InvalidArgumentError("no CIFAR files given");
  merged.images = at::cat(images, 0);
  merged.labels = at::cat(labels, 0);
  return merged;
}

}  // namespace biofed
