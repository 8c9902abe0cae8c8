#include "client/cuda_rejuvenation.h"

#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>

namespace biofed {

CudaRejuvenation::CudaRejuvenation(std::vector<torch::Tensor> weights, double d_re,
                                   RejuvenationVariant variant, uint64_t key)
    : weights_(std::move(weights)),
      d_re_(d_re),
      reference_(variant == RejuvenationVariant::kReference),
      key_(key) {
  TORCH_CHECK(!weights_.empty(), "CudaRejuvenation needs at least one weight");
  const torch::Device device = weights_.front().device();
  for (const torch::Tensor& w : weights_) {
    TORCH_CHECK(w.is_cuda() && w.device() == device && w.scalar_type() == torch::kFloat && w.is_contiguous(),
                "CudaRejuvenation needs contiguous float32 weights on one CUDA device, got ", w.device(), " ",
                w.scalar_type());
  }
  const auto options = torch::TensorOptions().device(device);
  const int64_t layers = static_cast<int64_t>(weights_.size());
  max_abs_ = torch::zeros({layers}, options.dtype(torch::kFloat));
  resets_ = torch::zeros({layers}, options.dtype(torch::kLong));
  calls_ = torch::zeros({2}, options.dtype(torch::kLong));
}

std::vector<double> CudaRejuvenation::MeanResetFractions() const {
  const torch::Tensor resets = resets_.cpu();
  const int64_t passes = calls_[1].item<int64_t>();
  std::vector<double> out(weights_.size(), 0.0);
  if (passes == 0) return out;
  for (size_t i = 0; i < weights_.size(); ++i) {
    out[i] = static_cast<double>(resets[static_cast<int64_t>(i)].item<int64_t>()) /
             (static_cast<double>(weights_[i].numel()) * static_cast<double>(passes));
  }
  return out;
}

void CudaRejuvenation::ResetCounts() {
  resets_.zero_();
  calls_[1].zero_();
}

void CudaRejuvenation::Apply() {
  const c10::cuda::CUDAGuard guard(weights_.front().device());
  views_.clear();
  for (const torch::Tensor& w : weights_) views_.push_back({w.data_ptr<float>(), w.numel()});
  RejuvenationLaunch launch;
  launch.layers = views_.data();
  launch.count = static_cast<int>(views_.size());
  launch.d_re = d_re_;
  launch.reference = reference_;
  launch.key = key_;
  launch.max_abs = max_abs_.data_ptr<float>();
  launch.resets = reinterpret_cast<unsigned long long*>(resets_.data_ptr<int64_t>());
  launch.calls = reinterpret_cast<unsigned long long*>(calls_.data_ptr<int64_t>());
  const char* error = LaunchRejuvenation(launch, c10::cuda::getCurrentCUDAStream().stream());
  TORCH_CHECK(error == nullptr, "weight rejuvenation on CUDA failed: ", error);
}

}  // namespace biofed
