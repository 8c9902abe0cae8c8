// A PNG grid of the true images (top row) above their matched
// reconstructions (bottom row). Stateless; thread-safe.
#ifndef BIOFED_ATTACK_IMAGE_GRID_H_
#define BIOFED_ATTACK_IMAGE_GRID_H_

#include <string>

#include <ATen/core/Tensor.h>

#include "absl/status/statusor.h"

namespace biofed {

// `truth` and `reconstruction` are [B, C, H, W] on [0, 1] (C = 1 or 3),
// reconstruction[i] matched to truth[i]. Pixels are enlarged `scale` times;
// images are separated by a 2-pixel gap. Returns the PNG bytes.
absl::StatusOr<std::string> ComparisonGridPng(const at::Tensor& truth, const at::Tensor& reconstruction,
                                              int64_t scale = 3);

}  // namespace biofed

#endif  // BIOFED_ATTACK_IMAGE_GRID_H_
