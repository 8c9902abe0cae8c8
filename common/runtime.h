// Process-wide compute settings: LibTorch's thread count and the device.
// The device is chosen here and nowhere else. Call once at start-up, before
// any tensor work; not thread-safe.
#ifndef BIOFED_COMMON_RUNTIME_H_
#define BIOFED_COMMON_RUNTIME_H_

#include <cstdint>
#include <string>

#include <c10/core/Device.h>

#include "absl/status/statusor.h"

namespace biofed {

// Sets LibTorch's intra-op thread count (it starts at 1 on Debian's build)
// and keeps OpenBLAS to one thread inside each of them. `threads` <= 0 means
// the number of cores. Returns the count in effect.
int64_t ConfigureThreads(int64_t threads);

// Resolves "auto", "cpu", "cuda" or "cuda:N". "auto" is CUDA when available.
// Choosing CUDA also turns TF32 off, so float32 is float32 on both devices.
// Returns FAILED_PRECONDITION when CUDA is asked for but absent.
absl::StatusOr<c10::Device> ResolveDevice(const std::string& spec);

// True when LibTorch sees at least one CUDA device.
bool CudaAvailable();

}  // namespace biofed

#endif  // BIOFED_COMMON_RUNTIME_H_
