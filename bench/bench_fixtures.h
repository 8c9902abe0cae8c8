// What the benchmark programs share: a training step on random data of a
// model's input shape, and a synthetic victim record for the attack.
// Not thread-safe.
#ifndef BIOFED_BENCH_BENCH_FIXTURES_H_
#define BIOFED_BENCH_BENCH_FIXTURES_H_

#include <cstdint>
#include <memory>
#include <string>

#include <torch/types.h>

#include "attack/update_record.h"
#include "client/training_step.h"

namespace biofed {
namespace bench {

// Mechanisms as a bit mask: 1 = FL, 2 = WR, 4 = WS. "baseline", "fl+wr+ws".
BiomodOptions MechanismsFromMask(int64_t mask);
std::string MechanismLabel(int64_t mask);

// A model of `architecture` on `input`, with the mask's mechanisms, its SGD
// step (lr 0.01, seed 1) and one random batch, all on `device`.
struct StepFixture {
  std::unique_ptr<TrainingStep> step;
  torch::Tensor images, labels;
};
StepFixture MakeStepFixture(Architecture architecture, InputShape input, int64_t batch, int64_t mask,
                            const torch::Device& device);

// The record of a client that sent the plain gradient of `batch` random
// 28x28x1 images at an untrained model of `architecture`.
UpdateRecord SyntheticRecord(Architecture architecture, int64_t batch);

}  // namespace bench
}  // namespace biofed

#endif  // BIOFED_BENCH_BENCH_FIXTURES_H_
