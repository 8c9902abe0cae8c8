// Fuzzy learning rates (FL): one factor tensor per Linear/Conv2d weight,
// F ~ U(1 - tau/2, 1 + tau/2) i.i.d., drawn once from the client's private
// seed and never changed; after backward each weight gradient is scaled by
// its factor in place. The factors are a pure function of (seed, shapes), so
// a simulated client regenerates them when it trains instead of holding them
// for its whole life. Not thread-safe; one per training loop.
#ifndef BIOFED_CLIENT_FUZZY_LEARNING_RATES_H_
#define BIOFED_CLIENT_FUZZY_LEARNING_RATES_H_

#include <cstdint>
#include <vector>

#include "models/model.h"

namespace biofed {

class FuzzyLearningRates {
 public:
  // Draws one factor tensor per target, placed on the target's device.
  FuzzyLearningRates(const std::vector<NamedTensor>& targets, double tau, uint64_t seed);

  // grad <- grad * F for every target whose gradient is defined. A tensor
  // pass on the gradient's device; no host synchronisation.
  void Apply() const;

  const std::vector<torch::Tensor>& factors() const { return factors_; }

 private:
  std::vector<torch::Tensor> weights_;
  std::vector<torch::Tensor> factors_;
};

// The factor tensor of target number `index` for a client seed: the same
// values FuzzyLearningRates draws (an adaptive attacker told the client's
// seed can recompute them). CPU, float32.
torch::Tensor DrawFuzzyFactors(at::IntArrayRef shape, double tau, uint64_t seed, size_t index);

}  // namespace biofed

#endif  // BIOFED_CLIENT_FUZZY_LEARNING_RATES_H_
