#include "common/runtime.h"

#include <dlfcn.h>

#include <thread>

#include <ATen/Context.h>
#include <torch/cuda.h>
#include <torch/utils.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace biofed {

int64_t ConfigureThreads(int64_t threads) {
  if (threads <= 0) {
    threads = static_cast<int64_t>(std::thread::hardware_concurrency());
    if (threads <= 0) threads = 1;
  }
  torch::set_num_threads(static_cast<int>(threads));
  // LibTorch's OpenMP pool owns the parallelism; OpenBLAS's own threads
  // (Debian's libblas.so.3 is OpenBLAS when libopenblas0-pthread is
  // installed) would otherwise spin against it on the same cores. Measured
  // on 2 cores (docs/benchmarks.md): 2-3x slower steps without this.
  using SetThreads = void (*)(int);
  if (auto set_blas_threads = reinterpret_cast<SetThreads>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"))) {
    set_blas_threads(1);
  }
  return torch::get_num_threads();
}

bool CudaAvailable() { return torch::cuda::is_available(); }

namespace {

// float32 on CUDA means float32: TF32 convolutions and matrix products
// (cuDNN's default) round inputs to 10 mantissa bits, which moves gradients
// in their third digit, and the attack matches gradients to 1e-4.
c10::Device UseCuda(c10::DeviceIndex index) {
  at::globalContext().setAllowTF32CuDNN(false);
  at::globalContext().setAllowTF32CuBLAS(false);
  return c10::Device(c10::kCUDA, index);
}

}  // namespace

absl::StatusOr<c10::Device> ResolveDevice(const std::string& spec) {
  if (spec == "cpu") return c10::Device(c10::kCPU);
  if (spec == "auto") return CudaAvailable() ? UseCuda(0) : c10::Device(c10::kCPU);
  if (spec == "cuda" || spec.rfind("cuda:", 0) == 0) {
    int index = 0;
    if (spec.size() > 5 && !absl::SimpleAtoi(spec.substr(5), &index)) {
      return absl::InvalidArgumentError(absl::StrCat("bad device '", spec, "'"));
    }
    if (!CudaAvailable()) {
      return absl::FailedPreconditionError(
          absl::StrCat("device '", spec, "' asked for, but this LibTorch sees no CUDA device"));
    }
    if (index < 0 || index >= static_cast<int>(torch::cuda::device_count())) {
      return absl::InvalidArgumentError(absl::StrCat("no CUDA device ", index));
    }
    return UseCuda(static_cast<c10::DeviceIndex>(index));
  }
  return absl::InvalidArgumentError(
      absl::StrCat("bad device '", spec, "': expected auto, cpu, cuda or cuda:N"));
}

}  // namespace biofed
