#include "client/rejuvenation_kernels.h"

#include <cuda_runtime.h>

#include <algorithm>

#include "client/rejuvenation_law.h"

namespace biofed {
namespace {

namespace law = rejuvenation_law;

constexpr int kThreads = 256;
constexpr int kWarps = kThreads / 32;
constexpr int kLayersPerLaunch = 64;      // grid.y; the views travel as a kernel argument
constexpr int64_t kMaxBlocksPerLayer = 1024;  // grid-stride beyond

struct LayerChunk {
  RejuvenationLayerView layer[kLayersPerLaunch];
  int first;  // index of layer[0] among all layers
};

__device__ float WarpMax(float v) {
  for (int offset = 16; offset > 0; offset /= 2) v = fmaxf(v, __shfl_down_sync(0xffffffffu, v, offset));
  return v;
}

__device__ unsigned int WarpSum(unsigned int v) {
  for (int offset = 16; offset > 0; offset /= 2) v += __shfl_down_sync(0xffffffffu, v, offset);
  return v;
}

// max|W| of each layer (grid.y) into max_abs, which starts at 0. fmaxf skips
// NaN, as the CPU pass does.
__global__ void MaxAbsKernel(LayerChunk chunk, float* max_abs) {
  const RejuvenationLayerView layer = chunk.layer[blockIdx.y];
  float local = 0.0f;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < layer.size;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    local = fmaxf(local, fabsf(layer.weight[i]));
  }
  __shared__ float warp_max[kWarps];
  local = WarpMax(local);
  if (threadIdx.x % 32 == 0) warp_max[threadIdx.x / 32] = local;
  __syncthreads();
  if (threadIdx.x == 0) {
    float block = 0.0f;
    for (int w = 0; w < kWarps; ++w) block = fmaxf(block, warp_max[w]);
    // Non-negative floats order like their bit patterns.
    atomicMax(reinterpret_cast<unsigned int*>(max_abs + chunk.first + blockIdx.y), __float_as_uint(block));
  }
}

__global__ void ResetKernel(LayerChunk chunk, const float* max_abs, const unsigned long long* calls,
                            unsigned long long* resets, double d_re, bool reference, uint64_t key) {
  const int index = chunk.first + static_cast<int>(blockIdx.y);
  const RejuvenationLayerView layer = chunk.layer[blockIdx.y];
  const float m = max_abs[index];
  const double inv_sigma = law::InverseSigma(m, d_re);
  const uint64_t stream = law::LayerStream(key, law::Subsequence(*calls, static_cast<uint64_t>(index)));
  unsigned int local = 0;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < layer.size;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const uint64_t word = law::WeightWord(stream, static_cast<uint64_t>(i));
    if (law::Resets(layer.weight[i] * inv_sigma, word, reference)) {
      layer.weight[i] = law::FreshWeight(m, word);
      ++local;
    }
  }
  local = WarpSum(local);
  if (threadIdx.x % 32 == 0 && local != 0) atomicAdd(resets + index, static_cast<unsigned long long>(local));
}

__global__ void CountCallKernel(unsigned long long* calls) {
  calls[0] += 1;
  calls[1] += 1;
}

template <typename Kernel, typename... Args>
void ForEachChunk(const RejuvenationLaunch& launch, cudaStream_t stream, Kernel kernel, Args... args) {
  for (int first = 0; first < launch.count; first += kLayersPerLaunch) {
    LayerChunk chunk{};
    chunk.first = first;
    const int layers = std::min(kLayersPerLaunch, launch.count - first);
    int64_t largest = 1;
    for (int k = 0; k < layers; ++k) {
      chunk.layer[k] = launch.layers[first + k];
      largest = std::max(largest, chunk.layer[k].size);
    }
    const int64_t blocks = std::min(kMaxBlocksPerLayer, (largest + kThreads - 1) / kThreads);
    kernel<<<dim3(static_cast<unsigned int>(blocks), static_cast<unsigned int>(layers)), kThreads, 0, stream>>>(
        chunk, args...);
  }
}

}  // namespace

const char* LaunchRejuvenation(const RejuvenationLaunch& launch, void* stream_handle) {
  if (launch.count <= 0) return nullptr;
  const cudaStream_t stream = static_cast<cudaStream_t>(stream_handle);
  cudaError_t error = cudaMemsetAsync(launch.max_abs, 0, sizeof(float) * launch.count, stream);
  if (error != cudaSuccess) return cudaGetErrorString(error);
  ForEachChunk(launch, stream, MaxAbsKernel, launch.max_abs);
  ForEachChunk(launch, stream, ResetKernel, static_cast<const float*>(launch.max_abs),
               static_cast<const unsigned long long*>(launch.calls), launch.resets, launch.d_re, launch.reference,
               launch.key);
  CountCallKernel<<<1, 1, 0, stream>>>(launch.calls);
  error = cudaGetLastError();
  return error == cudaSuccess ? nullptr : cudaGetErrorString(error);
}

}  // namespace biofed
