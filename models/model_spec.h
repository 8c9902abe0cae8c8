// Describes a model to build: architecture, input shape, class count and the
// weight-splitting factor. Plain data, no LibTorch types; thread-safe.
#ifndef BIOFED_MODELS_MODEL_SPEC_H_
#define BIOFED_MODELS_MODEL_SPEC_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace biofed {

enum class Architecture { kMlp, kAlexNet, kResNet20, kResNet32, kResNet56 };

struct InputShape {
  int64_t channels = 1;
  int64_t height = 28;
  int64_t width = 28;
  bool operator==(const InputShape& o) const {
    return channels == o.channels && height == o.height && width == o.width;
  }
};

struct ModelSpec {
  Architecture architecture = Architecture::kMlp;
  InputShape input;
  int64_t num_classes = 10;
  // Weight splitting (WS) division factor Gamma; 0 or 1 turns WS off.
  int64_t split_gamma = 0;
  // A malicious server's imprint block of this many bins in front of the
  // classifier (models/imprint_block.h); 0: none, the honest model.
  int64_t imprint_bins = 0;
};

// The most bins a spec may ask for (a spec from a file or a server is
// untrusted: this bounds the block's memory, 2 x bins x C x H x W floats).
inline constexpr int64_t kMaxImprintBins = 65536;

// "mlp", "alexnet", "resnet20", "resnet32", "resnet56".
absl::StatusOr<Architecture> ParseArchitecture(const std::string& name);
std::string ArchitectureName(Architecture architecture);
// The ResNets have BatchNorm; the MLP and the paper's AlexNet do not.
bool HasBatchNorm(Architecture architecture);
const std::vector<std::string>& KnownArchitectures();

// The spec as a JSON object {"architecture", "input": [C, H, W],
// "num_classes", "split_gamma"[, "imprint_bins" when > 0]}: how capture files
// and the federation protocol carry it.
std::string ModelSpecToJson(const ModelSpec& spec);
// INVALID_ARGUMENT for malformed JSON, a missing key, an unknown model or a
// bin count outside [0, kMaxImprintBins].
absl::StatusOr<ModelSpec> ModelSpecFromJson(const std::string& json);

}  // namespace biofed

#endif  // BIOFED_MODELS_MODEL_SPEC_H_
