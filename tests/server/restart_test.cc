// A server killed after round r resumes at round r + 1 from its checkpoint
// with identical weights; a round whose client vanished closes at the
// deadline with the rest.
#include <gtest/gtest.h>

#include "common/log.h"
#include "tests/testing/federation_harness.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace biofed {
namespace {

using ::biofed::testing::AwaitTrainTask;
using ::biofed::testing::FloatTensor;
using ::biofed::testing::IsOk;
using ::biofed::testing::Submission;

constexpr char kAlice[] = "alice-token-0123456789";
constexpr char kBob[] = "bob-token-0123456789ab";
constexpr char kCarol[] = "carol-token-0123456789";

CredentialStore Credentials() {
  CredentialStore c;
  EXPECT_THAT(c.Add("alice", {Role::kClient}, kAlice), IsOk());
  EXPECT_THAT(c.Add("bob", {Role::kClient}, kBob), IsOk());
  EXPECT_THAT(c.Add("carol", {Role::kClient}, kCarol), IsOk());
  return c;
}

Submission UpdateFor(const std::string& client, const std::string& token, const v1::TrainTask& task, float value) {
  Submission s;
  s.token = token;
  s.header.set_client_id(client);
  s.header.set_round(task.round());
  s.header.set_model_version(task.model_version());
  s.header.set_num_examples(10);
  s.header.set_shared_kind(v1::SHARED_PSEUDO_GRADIENT);
  s.header.set_lr(task.lr());
  s.tensors = {FloatTensor("w", {6}, value)};
  return s;
}

bool WaitForRounds(const FederationCore& core, int64_t rounds) {
  const absl::Time end = absl::Now() + absl::Seconds(20);
  while (core.completed_rounds() < rounds && absl::Now() < end) absl::SleepFor(absl::Milliseconds(5));
  return core.completed_rounds() >= rounds;
}

TEST(ServerRestartTest, ResumesAtTheNextRoundWithIdenticalWeights) {
  SetLogQuiet(true);
  testing::TempDir dir;
  FederationConfig config;
  config.run_id = "restart";
  config.model_spec_json = "{}";
  config.rounds = 4;
  config.min_clients = 2;
  config.poll_interval = absl::Milliseconds(10);
  config.checkpoint_path = dir.File("server.ckpt");
  const TensorTable initial = {FloatTensor("w", {6}, 1.0f)};

  TensorTable after_two;
  int port = 0;
  {
    auto f = testing::StartFederation(config, initial, nullptr, Credentials());
    ASSERT_NE(f, nullptr);
    port = f->server->port();
    auto stub = testing::InsecureStub(f->address());
    ASSERT_THAT(testing::JoinAs(*stub, kAlice), IsOk());
    ASSERT_THAT(testing::JoinAs(*stub, kBob), IsOk());
    for (int round = 1; round <= 2; ++round) {
      auto a = AwaitTrainTask(*stub, kAlice, "alice");
      auto b = AwaitTrainTask(*stub, kBob, "bob");
      ASSERT_TRUE(a && b);
      ASSERT_THAT(Submit(*stub, UpdateFor("alice", kAlice, *a, 0.1f * round)), IsOk());
      ASSERT_THAT(Submit(*stub, UpdateFor("bob", kBob, *b, -0.3f * round)), IsOk());
      ASSERT_TRUE(WaitForRounds(*f->core, round));
    }
    after_two = *f->core->current_model();
    f->Stop();  // the "kill": nothing is written after the round-2 checkpoint
  }
  ASSERT_NE(after_two[0].bytes, initial[0].bytes);

  auto f = testing::StartFederation(config, initial, nullptr, Credentials(), {true, "", "", ""},
                                    "127.0.0.1:" + std::to_string(port));
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->core->completed_rounds(), 2);
  EXPECT_EQ(f->core->current_model()->at(0).bytes, after_two[0].bytes);
  ASSERT_EQ(f->core->history().size(), 2u);
  EXPECT_EQ(f->core->history()[1].round, 2);
  auto stub = testing::InsecureStub(f->address());
  // The clients come back (a real client re-registers on its next call).
  ASSERT_THAT(testing::JoinAs(*stub, kAlice), IsOk());
  ASSERT_THAT(testing::JoinAs(*stub, kBob), IsOk());
  auto task = AwaitTrainTask(*stub, kAlice, "alice");
  ASSERT_TRUE(AwaitTrainTask(*stub, kBob, "bob"));
  ASSERT_TRUE(task.has_value());
  EXPECT_EQ(task->round(), 3);
  EXPECT_EQ(task->model_version(), 2);
}

TEST(ClientLossTest, RoundClosesAtTheDeadlineWithTheRemainingClients) {
  SetLogQuiet(true);
  FederationConfig config;
  config.run_id = "loss";
  config.model_spec_json = "{}";
  config.rounds = 1;
  config.min_clients = 2;
  config.min_available = 3;
  config.poll_interval = absl::Milliseconds(10);
  config.round_deadline = absl::Milliseconds(1500);
  auto f = testing::StartFederation(config, {FloatTensor("w", {6}, 1.0f)}, nullptr, Credentials());
  ASSERT_NE(f, nullptr);
  auto stub = testing::InsecureStub(f->address());
  // All three join before the round opens, so all three are sampled.
  ASSERT_THAT(testing::JoinAs(*stub, kAlice), IsOk());
  ASSERT_THAT(testing::JoinAs(*stub, kBob), IsOk());
  ASSERT_THAT(testing::JoinAs(*stub, kCarol), IsOk());
  auto a = AwaitTrainTask(*stub, kAlice, "alice");
  auto b = AwaitTrainTask(*stub, kBob, "bob");
  auto c = AwaitTrainTask(*stub, kCarol, "carol");  // carol takes the task, then dies
  ASSERT_TRUE(a && b && c);
  const absl::Time opened = absl::Now();
  ASSERT_THAT(Submit(*stub, UpdateFor("alice", kAlice, *a, 0.5f)), IsOk());
  ASSERT_THAT(Submit(*stub, UpdateFor("bob", kBob, *b, 0.5f)), IsOk());
  ASSERT_TRUE(WaitForRounds(*f->core, 1));
  // Closed by the deadline (1.5 s after opening), in one attempt.
  EXPECT_LT(absl::Now() - opened, absl::Seconds(5));
  const RoundSummary s = f->core->history().at(0);
  EXPECT_EQ(s.participants, (std::vector<std::string>{"alice", "bob"}));
  EXPECT_EQ(s.dropped, std::vector<std::string>{"carol"});
}

}  // namespace
}  // namespace biofed
