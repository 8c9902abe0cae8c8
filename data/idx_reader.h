// Reader for the IDX format of MNIST and Fashion-MNIST (gzip-compressed or
// raw; zlib reads both). Stateless and thread-safe.
#ifndef BIOFED_DATA_IDX_READER_H_
#define BIOFED_DATA_IDX_READER_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "data/dataset.h"

namespace biofed {

// Decodes an IDX images buffer (magic 0x00000803, uint8, dims N x H x W) into
// uint8 [N, 1, H, W]. `source` names the file in error messages.
absl::StatusOr<at::Tensor> ParseIdxImages(const std::string& bytes, const std::string& source);

// Decodes an IDX labels buffer (magic 0x00000801, uint8, dim N) into int64
// [N]; every label must be < num_classes.
absl::StatusOr<at::Tensor> ParseIdxLabels(const std::string& bytes, int64_t num_classes,
                                          const std::string& source);

// Reads a whole file, inflating it when it is gzip-compressed.
absl::StatusOr<std::string> ReadMaybeGzipped(const std::string& path);

// Loads a pair of IDX files into a Dataset; the counts must agree.
absl::StatusOr<Dataset> LoadIdxDataset(const std::string& name, const std::string& images_path,
                                       const std::string& labels_path, int64_t num_classes);

}  // namespace biofed

#endif  // BIOFED_DATA_IDX_READER_H_
