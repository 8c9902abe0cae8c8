// Derivation of independent random streams from one client seed. Pure
// functions, callable from CUDA kernels too; thread-safe.
#ifndef BIOFED_CLIENT_SEEDS_H_
#define BIOFED_CLIENT_SEEDS_H_

#include <cstdint>

// Marks a function callable on the host and in CUDA device code.
#if defined(__CUDACC__)
#define BIOFED_HOST_DEVICE __host__ __device__
#else
#define BIOFED_HOST_DEVICE
#endif

namespace biofed {

// Stream identifiers: each private mechanism draws from its own stream.
inline constexpr uint64_t kFuzzyStream = 0x464c;        // "FL"
inline constexpr uint64_t kRejuvenationStream = 0x5752; // "WR"
inline constexpr uint64_t kDataOrderStream = 0x444f;    // "DO"

// SplitMix64 finaliser: a bijective mix with good avalanche.
BIOFED_HOST_DEVICE inline uint64_t SplitMix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// A seed for (client seed, stream, index), distinct for distinct inputs with
// overwhelming probability.
inline uint64_t MixSeed(uint64_t seed, uint64_t stream, uint64_t index) {
  return SplitMix64(SplitMix64(SplitMix64(seed) ^ stream) ^ index);
}

}  // namespace biofed

#endif  // BIOFED_CLIENT_SEEDS_H_
