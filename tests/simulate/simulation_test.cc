#include "simulate/simulation.h"

#include <gtest/gtest.h>

#include "simulate/results_store.h"
#include "simulate/simulation_config.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace biofed {
namespace {

using ::biofed::testing::IsOk;
using ::biofed::testing::StatusIs;

// One FedSGD round of a baseline and a WR federation (same seed: the same
// model, partition, client seeds and attack), the first client's update
// attacked.
SimulationConfig OneRound(SharedKind share) {
  SimulationConfig c;
  c.clients = 2;
  c.samples_per_client = 8;
  c.rounds = 1;
  c.batch = 4;
  c.share = share;
  c.biomods = {"none", "wr"};
  c.mechanism_parameters.d_re = 8;
  c.attacker.config.iterations = 20;
  c.attacker.threat.labels_known = true;
  c.attack_rounds = {1};
  c.threads = 1;
  c.device = "cpu";
  return c;
}

std::vector<FederationOutcome> Simulate(const SimulationConfig& c, const testing::TempDir& dir,
                                        const std::string& name) {
  auto store = ResultsStore::Open(dir.File(name + ".db"));
  EXPECT_THAT(store, IsOk());
  auto outcomes = RunSimulation(c, **store, [](const std::string&) {});
  EXPECT_THAT(outcomes, IsOk());
  return outcomes.ok() ? *outcomes : std::vector<FederationOutcome>{};
}

// What the clients send is a switch: on the gradient share a WR client
// sends exactly what a client without WR sends (per-step WR changes the
// weights after the gradient is taken), so the attacker gets the same; on the pseudo-gradient WR's
// resets are in it. Each row says which share it attacked.
TEST(SimulationTest, ClientsSendTheShareTheConfigNames) {
  testing::TempDir dir;
  const std::vector<FederationOutcome> gradient = Simulate(OneRound(SharedKind::kGradient), dir, "gradient");
  const std::vector<FederationOutcome> update = Simulate(OneRound(SharedKind::kPseudoGradient), dir, "update");
  ASSERT_EQ(gradient.size(), 2u);
  ASSERT_EQ(update.size(), 2u);
  for (const auto* run : {&gradient, &update}) {
    for (const FederationOutcome& f : *run) ASSERT_EQ(f.attacks.size(), 1u) << f.name;
  }
  const ScoredAttack& plain = gradient[0].attacks[0].scored;
  const ScoredAttack& wr = gradient[1].attacks[0].scored;
  EXPECT_EQ(plain.share, "gradient");
  EXPECT_EQ(wr.objective, plain.objective);
  EXPECT_EQ(wr.psnr, plain.psnr);
  EXPECT_EQ(update[0].attacks[0].scored.share, "pseudo_gradient");
  EXPECT_NE(update[1].attacks[0].scored.objective, update[0].attacks[0].scored.objective);

  SimulationConfig fedavg = OneRound(SharedKind::kRaw);
  fedavg.mode = "fedavg";
  EXPECT_THAT(ValidateSimulationConfig(fedavg), StatusIs(absl::StatusCode::kInvalidArgument, "mode fedsgd"));
}

}  // namespace
}  // namespace biofed
