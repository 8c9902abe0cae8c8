// In-memory image classification datasets (MNIST, Fashion-MNIST, CIFAR-10,
// CIFAR-100) and their per-channel normalisation. Images are kept as uint8
// [N, C, H, W]; Batch() converts selected samples to normalised float.
// A Dataset is immutable after loading and safe to read from many threads.
#ifndef BIOFED_DATA_DATASET_H_
#define BIOFED_DATA_DATASET_H_

#include <cstdint>
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>

#include "absl/status/statusor.h"

namespace biofed {

struct Dataset {
  std::string name;
  at::Tensor images;  // uint8 [N, C, H, W]
  at::Tensor labels;  // int64 [N]
  int64_t num_classes = 0;

  int64_t size() const { return labels.defined() ? labels.size(0) : 0; }
  int64_t channels() const { return images.size(1); }
  int64_t height() const { return images.size(2); }
  int64_t width() const { return images.size(3); }
};

// Per-channel mean and standard deviation of pixel values scaled to [0, 1].
struct Normalization {
  std::vector<double> mean;
  std::vector<double> std;
};

// Computes per-channel mean/std of `data` (meant to be the training split).
Normalization ComputeNormalization(const Dataset& data);

// Float [B, C, H, W] images ((x / 255 - mean) / std) for `indices`.
at::Tensor NormalizedImages(const Dataset& data, const Normalization& norm,
                            const at::Tensor& indices);

// Inverse of the normalisation, clamped to [0, 1].
at::Tensor Denormalize(const at::Tensor& images, const Normalization& norm);

// The box [-mean/std, (1-mean)/std] per channel as [1, C, 1, 1] tensors.
std::pair<at::Tensor, at::Tensor> NormalizedBounds(const Normalization& norm);

struct DatasetSplits {
  Dataset train;
  Dataset test;
  Normalization norm;  // computed on train
};

// Names accepted by LoadDataset: "mnist", "fashion-mnist", "cifar10", "cifar100".
const std::vector<std::string>& KnownDatasets();

// The directory a dataset is read from when no --data-dir is given:
// $BIOFED_DATA_ROOT/<name> when that variable is set (one folder per
// dataset, e.g. a Debian package unpacked elsewhere), else
// /usr/share/datasets/fashion-mnist for Fashion-MNIST (Debian package
// dataset-fashion-mnist); other datasets then have no default.
std::string DefaultDataDir(const std::string& name);

// Loads the train and test splits of `name` from `dir` (DefaultDataDir when
// empty). Returns NOT_FOUND for missing files, DATA_LOSS for malformed ones
// (the message names the file), INVALID_ARGUMENT for an unknown name.
absl::StatusOr<DatasetSplits> LoadDataset(const std::string& name, const std::string& dir);

// A dataset holding the first `count` samples of `data` (all when count <= 0
// or larger than the dataset).
Dataset TakeFirst(const Dataset& data, int64_t count);

}  // namespace biofed

#endif  // BIOFED_DATA_DATASET_H_
