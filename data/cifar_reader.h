// Reader for the CIFAR-10 / CIFAR-100 binary format. A CIFAR-10 record is one
// label byte and 3072 pixel bytes (R, G, B planes of 32x32); a CIFAR-100
// record has a coarse and a fine label byte first (the fine label is used).
// Stateless and thread-safe.
#ifndef BIOFED_DATA_CIFAR_READER_H_
#define BIOFED_DATA_CIFAR_READER_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "data/dataset.h"

namespace biofed {

enum class CifarVariant { kCifar10, kCifar100 };

// Decodes the records of one binary file. Returns DATA_LOSS (naming
// `source`) for an empty file, a size that is not a whole number of records,
// or a label out of range.
absl::StatusOr<Dataset> ParseCifar(const std::string& bytes, CifarVariant variant,
                                   const std::string& source);

// Reads and concatenates several files of one split.
absl::StatusOr<Dataset> LoadCifarFiles(const std::vector<std::string>& paths,
                                       CifarVariant variant);

}  // namespace biofed

#endif  // BIOFED_DATA_CIFAR_READER_H_
