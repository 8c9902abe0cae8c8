#include "data/dataset.h"

#include <cstdlib>
#include <filesystem>

#include <ATen/ATen.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/status_macros.h"
#include "common/torch_status.h"
#include "data/cifar_reader.h"
#include "data/idx_reader.h"

namespace biofed {
namespace {

namespace fs = std::filesystem;

// Prefers the gzip file, then the raw one; names both when neither exists.
absl::StatusOr<std::string> FindIdxFile(const std::string& dir, const std::string& stem) {
  const std::string gz = (fs::path(dir) / (stem + ".gz")).string();
  const std::string raw = (fs::path(dir) / stem).string();
  std::error_code ec;
  if (fs::is_regular_file(gz, ec)) return gz;
  if (fs::is_regular_file(raw, ec)) return raw;
  return absl::NotFoundError(absl::StrCat("missing file: neither ", gz, " nor ", raw, " exists"));
}

absl::StatusOr<DatasetSplits> LoadIdxSplits(const std::string& name, const std::string& dir) {
  DatasetSplits splits;
  BIOFED_ASSIGN_OR_RETURN(const std::string train_images,
                          FindIdxFile(dir, "train-images-idx3-ubyte"));
  BIOFED_ASSIGN_OR_RETURN(const std::string train_labels,
                          FindIdxFile(dir, "train-labels-idx1-ubyte"));
  BIOFED_ASSIGN_OR_RETURN(const std::string test_images, FindIdxFile(dir, "t10k-images-idx3-ubyte"));
  BIOFED_ASSIGN_OR_RETURN(const std::string test_labels, FindIdxFile(dir, "t10k-labels-idx1-ubyte"));
  BIOFED_ASSIGN_OR_RETURN(splits.train, LoadIdxDataset(name, train_images, train_labels, 10));
  BIOFED_ASSIGN_OR_RETURN(splits.test, LoadIdxDataset(name, test_images, test_labels, 10));
  return splits;
}

absl::StatusOr<DatasetSplits> LoadCifarSplits(CifarVariant variant, std::string dir) {
  const std::string sub = variant == CifarVariant::kCifar10 ? "cifar-10-batches-bin"
                                                            : "cifar-100-binary";
  std::error_code ec;
  if (fs::is_directory(fs::path(dir) / sub, ec)) dir = (fs::path(dir) / sub).string();
  std::vector<std::string> train_files, test_files;
  if (variant == CifarVariant::kCifar10) {
    for (int i = 1; i <= 5; ++i) {
      train_files.push_back((fs::path(dir) / absl::StrCat("data_batch_", i, ".bin")).string());
    }
    test_files.push_back((fs::path(dir) / "test_batch.bin").string());
  } else {
    train_files.push_back((fs::path(dir) / "train.bin").string());
    test_files.push_back((fs::path(dir) / "test.bin").string());
  }
  DatasetSplits splits;
  BIOFED_ASSIGN_OR_RETURN(splits.train, LoadCifarFiles(train_files, variant));
  BIOFED_ASSIGN_OR_RETURN(splits.test, LoadCifarFiles(test_files, variant));
  return splits;
}

}  // namespace

const std::vector<std::string>& KnownDatasets() {
  static const auto* names =
      new std::vector<std::string>{"fashion-mnist", "mnist", "cifar10", "cifar100"};
  return *names;
}

std::string DefaultDataDir(const std::string& name) {
  const char* root = std::getenv("BIOFED_DATA_ROOT");
  if (root != nullptr && *root != '\0') return (fs::path(root) / name).string();
  if (name == "fashion-mnist") return "/usr/share/datasets/fashion-mnist";
  return "";
}

absl::StatusOr<DatasetSplits> LoadDataset(const std::string& name, const std::string& dir_flag) {
  const std::string dir = dir_flag.empty() ? DefaultDataDir(name) : dir_flag;
  absl::StatusOr<DatasetSplits> splits;
  if (name == "fashion-mnist" || name == "mnist") {
    if (dir.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "dataset '", name, "' has no default location: pass --data-dir with its IDX files"));
    }
    splits = LoadIdxSplits(name, dir);
  } else if (name == "cifar10" || name == "cifar100") {
    if (dir.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "dataset '", name, "' has no default location: pass --data-dir with its binary files"));
    }
    splits = LoadCifarSplits(name == "cifar10" ? CifarVariant::kCifar10 : CifarVariant::kCifar100,
                             dir);
  } else {
    return absl::InvalidArgumentError(absl::StrCat("unknown dataset '", name, "'; known: ",
                                                   absl::StrJoin(KnownDatasets(), ", ")));
  }
  if (!splits.ok()) return splits.status();
  if (splits->train.images.sizes().slice(1) != splits->test.images.sizes().slice(1)) {
    return absl::DataLossError(absl::StrCat(dir, ": train and test images differ in shape"));
  }
  splits->train.name = splits->test.name = name;
  splits->norm = ComputeNormalization(splits->train);
  return splits;
}

Normalization ComputeNormalization(const Dataset& data) {
  // Two-pass in double precision: exact enough for 60k x 784 values.
  const at::Tensor pixels = data.images.to(at::kDouble).div_(255.0).transpose(0, 1).reshape(
      {data.channels(), -1});
  const at::Tensor mean = pixels.mean(1);
  const at::Tensor std = pixels.std(1, /*unbiased=*/false);
  Normalization norm;
  for (int64_t c = 0; c < data.channels(); ++c) {
    norm.mean.push_back(mean[c].item<double>());
    norm.std.push_back(std::max(std[c].item<double>(), 1e-12));
  }
  return norm;
}

std::pair<at::Tensor, at::Tensor> NormalizedBounds(const Normalization& norm) {
  const auto c = static_cast<int64_t>(norm.mean.size());
  at::Tensor mean = at::tensor(norm.mean, at::kFloat).view({1, c, 1, 1});
  at::Tensor std = at::tensor(norm.std, at::kFloat).view({1, c, 1, 1});
  return {(-mean) / std, (1 - mean) / std};
}

at::Tensor NormalizedImages(const Dataset& data, const Normalization& norm,
                            const at::Tensor& indices) {
  const auto c = static_cast<int64_t>(norm.mean.size());
  const at::Tensor mean = at::tensor(norm.mean, at::kFloat).view({1, c, 1, 1});
  const at::Tensor std = at::tensor(norm.std, at::kFloat).view({1, c, 1, 1});
  return (data.images.index_select(0, indices).to(at::kFloat).div_(255.0f) - mean) / std;
}

at::Tensor Denormalize(const at::Tensor& images, const Normalization& norm) {
  const auto c = static_cast<int64_t>(norm.mean.size());
  const auto options = at::TensorOptions().dtype(images.scalar_type()).device(images.device());
  const at::Tensor mean = at::tensor(norm.mean, at::kFloat).view({1, c, 1, 1}).to(options);
  const at::Tensor std = at::tensor(norm.std, at::kFloat).view({1, c, 1, 1}).to(options);
  return (images * std + mean).clamp(0.0, 1.0);
}

Dataset TakeFirst(const Dataset& data, int64_t count) {
  if (count <= 0 || count >= data.size()) return data;
  Dataset out = data;
  out.images = data.images.slice(0, 0, count);
  out.labels = data.labels.slice(0, 0, count);
  return out;
}

}  // namespace biofed
