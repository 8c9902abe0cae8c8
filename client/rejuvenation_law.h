// The per-weight law of weight rejuvenation (WR), written once for the three
// passes that apply it: the fused CPU loop, the tensor-operation pass and the
// CUDA kernel. Given a layer's max|W| = m and one 64-bit random word per
// weight, every pass makes the same decision and draws the same new value,
// so the devices agree weight for weight on the same seed.
//
// The random word of weight i in call c of layer l under key k is
//   SplitMix64(LayerStream(k, (c << 16) | l) + i * kWeightStride),
// its high 32 bits u decide (reset iff (u + 0.5) / 2^32 < P(w / sigma),
// sigma = m / d_re + 1e-13) and its low 32 bits v give the new value
// m * (2 (v + 0.5) / 2^32 - 1). Pure inline functions; thread-safe.
#ifndef BIOFED_CLIENT_REJUVENATION_LAW_H_
#define BIOFED_CLIENT_REJUVENATION_LAW_H_

#include <math.h>

#include <cstdint>

#include "client/seeds.h"

namespace biofed {
namespace rejuvenation_law {

inline constexpr uint64_t kWeightStride = 0x9e3779b97f4a7c15ULL;
inline constexpr double kInverseTwoTo32 = 1.0 / 4294967296.0;

// The subsequence of one layer in one call: every draw of a client's life is
// distinct while layers < 2^16.
BIOFED_HOST_DEVICE inline uint64_t Subsequence(uint64_t call, uint64_t layer) {
  return (call << 16) | layer;
}

BIOFED_HOST_DEVICE inline uint64_t LayerStream(uint64_t key, uint64_t subsequence) {
  return SplitMix64(key ^ SplitMix64(subsequence));
}

BIOFED_HOST_DEVICE inline uint64_t WeightWord(uint64_t layer_stream, uint64_t index) {
  return SplitMix64(layer_stream + index * kWeightStride);
}

// 1 / sigma for a layer whose max|W| is m.
BIOFED_HOST_DEVICE inline double InverseSigma(float m, double d_re) {
  return 1.0 / (static_cast<double>(m) / d_re + 1e-13);
}

// P(reset) of a weight at y = w / sigma: erfc(|y| / sqrt 2) (reference, the
// authors' code) or erfc(|y| / sqrt 2) / 2 = 1 - Phi(|y|) (the paper's eq. 3
// on the magnitude, as its text says: "the smaller a weight, the higher its
// probability"; on the signed weight every negative weight would reset with
// probability above 1/2 at every step).
BIOFED_HOST_DEVICE inline double ResetProbability(double y, bool reference) {
  const double tail = ::erfc(::fabs(y) / ::sqrt(2.0));
  return reference ? tail : 0.5 * tail;
}

// (bits + 0.5) / 2^32: a uniform in (0, 1) that is never 0 or 1.
BIOFED_HOST_DEVICE inline double Uniform(uint32_t bits) {
  return (static_cast<double>(bits) + 0.5) * kInverseTwoTo32;
}

BIOFED_HOST_DEVICE inline uint32_t DecisionBits(uint64_t word) {
  return static_cast<uint32_t>(word >> 32);
}

BIOFED_HOST_DEVICE inline bool Resets(double y, uint64_t word, bool reference) {
  return Uniform(DecisionBits(word)) < ResetProbability(y, reference);
}

// The new value of a reset weight: uniform on (-m, m).
BIOFED_HOST_DEVICE inline float FreshWeight(float m, uint64_t word) {
  const double v = Uniform(static_cast<uint32_t>(word & 0xffffffffULL));
  return m * static_cast<float>(2.0 * v - 1.0);
}

}  // namespace rejuvenation_law
}  // namespace biofed

#endif  // BIOFED_CLIENT_REJUVENATION_LAW_H_
