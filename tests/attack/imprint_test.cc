// The malicious server's imprint attack (attack/imprint.h): the closed-form
// recovery on gradients built by hand from its definition, and end to end on
// a client the server sent an imprinted model, scored against the true batch.
#include "attack/imprint.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "attack/server_behaviour.h"
#include "attack/victim.h"
#include "experiment/attack_and_score.h"
#include "tests/testing/fashion_mnist.h"
#include "tests/testing/status_matchers.h"
#include "wire/torch_bridge.h"

namespace biofed {
namespace {

using ::biofed::testing::FashionMnist;
using ::biofed::testing::IsOk;
using ::biofed::testing::StatusIs;

// The gradients of bins with thresholds `q` (bias -q) for examples x_j with
// brightness m_j and per-example output derivative g_j, by the definition:
// bin k sees example j when m_j > q_k; dW_k = sum g_j x_j, db_k = sum g_j.
std::pair<torch::Tensor, torch::Tensor> BinGradients(const torch::Tensor& x, const torch::Tensor& g,
                                                     const std::vector<double>& q) {
  const torch::Tensor m = x.flatten(1).mean(1);
  torch::Tensor dw = torch::zeros({static_cast<int64_t>(q.size()), x[0].numel()}, torch::kDouble);
  torch::Tensor db = torch::zeros({static_cast<int64_t>(q.size())}, torch::kDouble);
  for (size_t k = 0; k < q.size(); ++k) {
    for (int64_t j = 0; j < x.size(0); ++j) {
      if (m[j].item<double>() > q[k]) {
        dw[k] += g[j] * x[j].flatten();
        db[k] += g[j];
      }
    }
  }
  return {dw, db};
}

TEST(ImprintRecoveryTest, RecoversEachInputAloneBetweenTwoThresholds) {
  torch::manual_seed(1);
  // Three 1x2x2 inputs of brightness 0.1, 0.5 and 0.9 (each pixel off its
  // mean by a fixed pattern), thresholds -1, 0.3, 0.7, 2 (the last sees none).
  const torch::Tensor pattern = torch::tensor({0.2, -0.1, 0.3, -0.4}, torch::kDouble).view({1, 2, 2});
  const torch::Tensor x = torch::stack({pattern + 0.1, pattern + 0.5, pattern + 0.9});
  const torch::Tensor g = torch::tensor({0.7, -1.3, 0.2}, torch::kDouble);
  const std::vector<double> q = {-1.0, 0.3, 0.7, 2.0};
  auto [dw, db] = BinGradients(x, g, q);
  // The bins in a shuffled order: the recovery orders them by the bias sent.
  const torch::Tensor shuffle = torch::tensor({2, 0, 3, 1}, torch::kLong);
  const torch::Tensor bias = -torch::tensor(q, torch::kDouble);
  const ImprintRecovery r = RecoverImprintedInputs(dw.index_select(0, shuffle), db.index_select(0, shuffle),
                                                   bias.index_select(0, shuffle), 8, {1, 2, 2});
  EXPECT_EQ(r.occupied, 3);
  ASSERT_EQ(r.images.size(0), 3);
  // Strongest bias-gradient difference first: |g| = 1.3, 0.7, 0.2.
  for (auto [image, truth] : std::vector<std::pair<int64_t, int64_t>>{{0, 1}, {1, 0}, {2, 2}}) {
    EXPECT_TRUE(torch::allclose(r.images[image].to(torch::kDouble), x[truth], 0, 1e-6)) << image;
  }
}

TEST(ImprintRecoveryTest, TwoInputsBetweenTheSameThresholdsComeOutAsOneMixture) {
  const torch::Tensor a = torch::full({1, 2, 2}, 0.4, torch::kDouble), b = torch::full({1, 2, 2}, 0.6, torch::kDouble);
  const torch::Tensor g = torch::tensor({1.0, 3.0}, torch::kDouble);
  auto [dw, db] = BinGradients(torch::stack({a, b}), g, {-1.0, 0.8});
  const ImprintRecovery r = RecoverImprintedInputs(dw, db, torch::tensor({1.0, -0.8}), 2, {1, 2, 2});
  EXPECT_EQ(r.occupied, 1);
  ASSERT_EQ(r.images.size(0), 1);
  // (1 * 0.4 + 3 * 0.6) / 4 = 0.55: neither input.
  EXPECT_NEAR(r.images[0][0][0][0].item<double>(), 0.55, 1e-6);
}

TEST(ImprintRecoveryTest, NoGradientRecoversNothing) {
  const ImprintRecovery r = RecoverImprintedInputs(torch::zeros({4, 4}), torch::zeros({4}),
                                                   torch::tensor({3.0, 2.0, 1.0, 0.0}), 4, {1, 2, 2});
  EXPECT_EQ(r.occupied, 0);
  EXPECT_EQ(r.images.size(0), 0);
}

TEST(ImprintedModelTest, KeepsTheClassifierAndSetsOneDirectionWithQuantileThresholds) {
  const ModelSpec spec{Architecture::kMlp, {1, 8, 8}, 3, 0, 0};
  const Model classifier = BuildModel(spec, 4).value();
  const torch::Tensor public_images = torch::rand({101, 1, 8, 8});
  auto imprinted = ImprintedModel(classifier, 4, public_images);
  ASSERT_THAT(imprinted, IsOk());
  EXPECT_EQ(imprinted->spec().imprint_bins, 4);
  std::map<std::string, torch::Tensor> state;
  for (const NamedTensor& t : imprinted->named_state()) state[t.name] = t.tensor;
  for (const NamedTensor& t : classifier.named_state()) {
    ASSERT_TRUE(state.count("model." + t.name)) << t.name;
    EXPECT_TRUE(torch::equal(state["model." + t.name], t.tensor)) << t.name;
  }
  EXPECT_TRUE(torch::allclose(state["imprint_bins.weight"], torch::full({4, 64}, 1.0 / 64)));
  // Thresholds at the 1/4, 2/4, 3/4 order statistics of the brightness
  // (indices 25, 50, 75 of 101 sorted), the first below every image.
  const torch::Tensor sorted = std::get<0>(public_images.flatten(1).mean(1).sort());
  const torch::Tensor thresholds = -state["imprint_bins.bias"];
  EXPECT_LT(thresholds[0].item<float>(), sorted[0].item<float>());
  for (int64_t k = 1; k < 4; ++k) EXPECT_FLOAT_EQ(thresholds[k].item<float>(), sorted[k * 25].item<float>()) << k;
  EXPECT_THAT(ImprintedModel(*imprinted, 4, public_images),
              StatusIs(absl::StatusCode::kInvalidArgument, "already has an imprint block"));
  for (int64_t bins : {int64_t{1}, kMaxImprintBins + 1}) {
    EXPECT_THAT(ImprintedModel(classifier, bins, public_images),
                StatusIs(absl::StatusCode::kInvalidArgument, "2 to 65536 bins"));
  }
}

// What a malicious federation server pins: exactly the block's four
// entries, with the values the construction gave them.
TEST(ImprintedModelTest, TheBlockEntriesAreTheServersOwn) {
  const Model classifier = BuildModel(ModelSpec{}, 1).value();
  const Model imprinted = ImprintedModel(classifier, 8, torch::rand({20, 1, 28, 28})).value();
  const TensorTable entries = ImprintBlockEntries(imprinted);
  std::vector<std::string> names;
  for (const HostTensor& t : entries) names.push_back(t.name);
  EXPECT_THAT(names, ::testing::UnorderedElementsAre("imprint_bins.weight", "imprint_bins.bias", "imprint_out.weight",
                                                     "imprint_out.bias"));
  const TensorTable state = ModelStateTable(imprinted);
  for (const HostTensor& t : entries) {
    const HostTensor* same = FindTensor(state, t.name);
    ASSERT_NE(same, nullptr);
    EXPECT_EQ(std::string_view(t.bytes), std::string_view(same->bytes)) << t.name;
  }
}

AttackRequest ImprintAttacker() {
  AttackRequest request;
  request.spec.config.kind = AttackKind::kImprint;
  request.name = "imprint";
  return request;
}

// Robbing the Fed's claim: a baseline client's batch comes back exactly.
// 1024 bins for 8 images: the chance that two of them share an interval is
// about 1 - exp(-28/1024), under 3% for a random batch; this seed's batch
// has none (a shared interval would show as a lost image, not an error).
TEST(ImprintAttackTest, RecoversABatchOfEightFashionMnistImagesExactly) {
  VictimOptions o;
  o.batch_size = 8;
  o.seed = 5;
  o.server = {ServerBehaviour::Kind::kImprint, 1024};
  auto capture = MakeVictimCapture(o, FashionMnist());
  ASSERT_THAT(capture, IsOk());
  EXPECT_EQ(capture->record.spec.imprint_bins, 1024);
  auto outcome = AttackAndScore(ImprintAttacker(), capture->record, *capture->audit, torch::kCPU);
  ASSERT_THAT(outcome, IsOk());
  ASSERT_EQ(outcome->score.images.size(), 8u);
  for (const ImageScore& s : outcome->score.images) EXPECT_GE(s.psnr, 60.0) << "image " << s.truth_index;
  EXPECT_DOUBLE_EQ(outcome->scored.recovered_fraction, 1.0);
}

TEST(ImprintAttackTest, NeedsTheModelOfAMaliciousServer) {
  VictimOptions o;
  o.batch_size = 2;
  auto capture = MakeVictimCapture(o, FashionMnist());
  ASSERT_THAT(capture, IsOk());
  EXPECT_THAT(AttackAndScore(ImprintAttacker(), capture->record, *capture->audit, torch::kCPU),
              StatusIs(absl::StatusCode::kInvalidArgument, "--attack imprint"));
}

TEST(ServerBehaviourTest, OnlyTheImprintAttackerIsAMaliciousServer) {
  AttackConfig attack;
  EXPECT_FALSE(ServerBehaviourOf(attack).malicious());
  attack.kind = AttackKind::kImprint;
  attack.imprint_bins = 64;
  EXPECT_TRUE(ServerBehaviourOf(attack).malicious());
  EXPECT_EQ(ServerBehaviourOf(attack).imprint_bins, 64);
}

}  // namespace
}  // namespace biofed
