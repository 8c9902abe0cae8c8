#include "attack/image_grid.h"

#include <torch/torch.h>

#include "common/png_writer.h"

namespace biofed {

absl::StatusOr<std::string> ComparisonGridPng(const torch::Tensor& truth, const torch::Tensor& reconstruction,
                                              int64_t scale) {
  if (truth.dim() != 4 || truth.sizes() != reconstruction.sizes() || (truth.size(1) != 1 && truth.size(1) != 3)) {
    return absl::InvalidArgumentError("grid: truth and reconstruction must both be [B, 1 or 3, H, W]");
  }
  constexpr int64_t kGap = 2;
  const int64_t b = truth.size(0), c = truth.size(1), h = truth.size(2) * scale, w = truth.size(3) * scale;
  const int64_t width = b * w + (b + 1) * kGap, height = 2 * h + 3 * kGap;
  std::vector<uint8_t> pixels(static_cast<size_t>(width * height * c), 255);
  auto paste = [&](const torch::Tensor& image, int64_t x0, int64_t y0) {
    const torch::Tensor bytes = (image.detach().to(torch::kCPU, torch::kFloat).clamp(0, 1) * 255).round().to(torch::kByte)
                                    .repeat_interleave(scale, 1).repeat_interleave(scale, 2).permute({1, 2, 0}).contiguous();
    const uint8_t* src = bytes.data_ptr<uint8_t>();
    for (int64_t y = 0; y < h; ++y) {
      std::copy(src + y * w * c, src + (y + 1) * w * c, pixels.begin() + ((y0 + y) * width + x0) * c);
    }
  };
  for (int64_t i = 0; i < b; ++i) {
    const int64_t x0 = kGap + i * (w + kGap);
    paste(truth[i], x0, kGap);
    paste(reconstruction[i], x0, 2 * kGap + h);
  }
  return EncodePng(pixels, width, height, static_cast<int>(c));
}

}  // namespace biofed
