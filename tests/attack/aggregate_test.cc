// The aggregate an observer of secure aggregation sees (VictimOptions::
// clients): the mean of K clients' updates, attacked as one update of all
// their examples.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "attack/server_behaviour.h"
#include "attack/update_record.h"
#include "attack/victim.h"
#include "experiment/attack_and_score.h"
#include "models/model_state.h"
#include "tests/testing/fashion_mnist.h"
#include "tests/testing/status_matchers.h"

namespace biofed {
namespace {

using ::biofed::testing::FashionMnist;
using ::biofed::testing::IsOk;
using ::biofed::testing::StatusIs;

CaptureFile Aggregate(int64_t clients, int64_t batch, ServerBehaviour server = {}) {
  VictimOptions o;
  o.batch_size = batch;
  o.clients = clients;
  o.seed = 7;
  o.server = server;
  auto capture = MakeVictimCapture(o, FashionMnist());
  EXPECT_THAT(capture, IsOk());
  return *capture;
}

// K baseline FedSGD clients of equal batches: the mean of their mean-loss
// gradients is the gradient of the mean loss over the union of the batches,
// computed here by autograd on the audit's images, apart from the client
// code. Tolerance: float32 sums of 2x3 examples' terms, relative ~1e-6; 1e-5
// of the largest entry.
TEST(AggregateVictimTest, IsTheGradientOfTheUnionOfTheClientsBatches) {
  const CaptureFile c = Aggregate(3, 2);
  EXPECT_EQ(c.record.clients, 3);
  EXPECT_EQ(c.record.num_examples, 6);
  ASSERT_EQ(c.audit->images.size(0), 6);
  Model model = BuildModel(c.record.spec, 0).value();
  ASSERT_THAT(LoadState(model, c.record.global_state), IsOk());
  const torch::Tensor loss = torch::nn::functional::cross_entropy(model.forward(c.audit->images), c.audit->labels);
  const std::vector<torch::Tensor> expected = torch::autograd::grad({loss}, model.parameters());
  ASSERT_EQ(expected.size(), c.record.update.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    const double scale = expected[i].abs().max().item<double>();
    EXPECT_TRUE(torch::allclose(c.record.update[i].tensor, expected[i], 0, 1e-5 * scale + 1e-12))
        << c.record.update[i].name;
  }
}

TEST(AggregateVictimTest, ItsFileRecordsTheClientsAndOneClientsReadsAsBefore) {
  const CaptureFile aggregate = Aggregate(2, 1);
  auto decoded = DecodeCapture(EncodeCapture(aggregate), "aggregate");
  ASSERT_THAT(decoded, IsOk());
  EXPECT_EQ(decoded->record.clients, 2);
  const std::string single = EncodeCapture(Aggregate(1, 1));
  EXPECT_EQ(single.find("\"clients\""), std::string::npos);
  EXPECT_EQ(DecodeCapture(single, "single")->record.clients, 1);
}

// Secure aggregation does not stop a malicious server: its imprint block
// sees every client's examples in the sum, each alone between two thresholds
// (1024 bins for 8 images, as for one client's batch of 8).
TEST(AggregateVictimTest, TheImprintAttackRecoversEveryClientsBatchFromTheAggregate) {
  const CaptureFile c = Aggregate(4, 2, {ServerBehaviour::Kind::kImprint, 1024});
  AttackRequest request;
  request.spec.config.kind = AttackKind::kImprint;
  auto outcome = AttackAndScore(request, c.record, *c.audit, torch::kCPU);
  ASSERT_THAT(outcome, IsOk());
  ASSERT_EQ(outcome->score.images.size(), 8u);
  for (const ImageScore& s : outcome->score.images) EXPECT_GE(s.psnr, 60.0) << "image " << s.truth_index;
}

TEST(AggregateVictimTest, AttacksThatModelOneClientAreRefused) {
  const CaptureFile c = Aggregate(2, 1);
  AttackRequest request;
  request.spec.config.iterations = 1;
  request.spec.threat.fuzzy_factors_known = true;
  AuditRecord with_fl = *c.audit;
  with_fl.tau = 0.5;
  EXPECT_THAT(AttackAndScore(request, c.record, with_fl, torch::kCPU),
              StatusIs(absl::StatusCode::kInvalidArgument, "aggregate"));
  request.spec.threat.fuzzy_factors_known = false;
  request.spec.config.kind = AttackKind::kFedAvg;
  EXPECT_THAT(AttackAndScore(request, c.record, *c.audit, torch::kCPU),
              StatusIs(absl::StatusCode::kInvalidArgument, "aggregate"));
}

}  // namespace
}  // namespace biofed
