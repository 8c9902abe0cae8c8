// Long check (label `long`): Inverting Gradients on an untrained MLP,
// Fashion-MNIST, batch 1, labels inferred, reaches 30 dB within 1000
// iterations.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "attack/attack.h"
#include "attack/metrics.h"
#include "attack/victim.h"
#include "common/runtime.h"
#include "tests/testing/status_matchers.h"

namespace biofed {
namespace {

TEST(InvertingGradientsLongTest, UntrainedMlpBatchOneReachesThirtyDecibels) {
  ConfigureThreads(0);
  const DatasetSplits data = LoadDataset("fashion-mnist", "").value();
  VictimOptions victim;
  victim.seed = 11;
  const CaptureFile c = MakeVictimCapture(victim, data).value();
  AttackConfig config;
  config.iterations = 1000;
  auto result = RunAttack(c.record, {}, ThreatModel{}, config, torch::kCPU);
  ASSERT_THAT(result, biofed::testing::IsOk());
  const BatchScore score =
      ScoreReconstruction(Denormalize(result->images, c.record.norm), Denormalize(c.audit->images, c.record.norm),
                          result->labels, {c.audit->labels[0].item<int64_t>()});
  EXPECT_GE(score.mean_psnr, 30.0);
  EXPECT_EQ(score.label_accuracy, 1.0);
}

}  // namespace
}  // namespace biofed
