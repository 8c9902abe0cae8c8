// The launch interface of the CUDA weight-rejuvenation kernels
// (rejuvenation_kernels.cu). It names no CUDA or LibTorch type, so host code
// compiled without nvcc calls it; cuda_rejuvenation.h is its one caller.
// Built only with BIOFED_WITH_CUDA. Thread-safe (it only enqueues work).
#ifndef BIOFED_CLIENT_REJUVENATION_KERNELS_H_
#define BIOFED_CLIENT_REJUVENATION_KERNELS_H_

#include <cstdint>

namespace biofed {

// One contiguous float32 weight tensor in device memory.
struct RejuvenationLayerView {
  float* weight;
  int64_t size;
};

// One WR pass over `count` layers. The device buffers belong to the caller:
// max_abs holds `count` floats (scratch), resets `count` counters that the
// pass adds to, calls two counters: passes in all (it selects the random
// subsequence) and passes since the caller last zeroed the second. Both are
// read and incremented on the device, so a CUDA graph replays correctly.
struct RejuvenationLaunch {
  const RejuvenationLayerView* layers;  // host array of `count` views
  int count;
  double d_re;
  bool reference;  // RejuvenationVariant::kReference, else kPaper
  uint64_t key;
  float* max_abs;
  unsigned long long* resets;
  unsigned long long* calls;
};

// Enqueues the pass on `stream` (a cudaStream_t): max|W| per layer, then
// the resets, then both pass counters += 1. Returns nullptr, or CUDA's message when a
// launch failed.
const char* LaunchRejuvenation(const RejuvenationLaunch& launch, void* stream);

}  // namespace biofed

#endif  // BIOFED_CLIENT_REJUVENATION_KERNELS_H_
