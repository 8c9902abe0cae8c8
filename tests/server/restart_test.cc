// A server killed after round r resumes at round r + 1 from its checkpoint
// with identical weights; a round whose client vanished closes at the
// deadline with the rest; live clients slower than the deadline keep their
// round. A port in use is not shared with a second server.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <optional>
#include <thread>

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

// gRPC's default (SO_REUSEPORT) would let a second server bind a port in use
// and take some of its connections; a client handed to the wrong one waits out
// its deadline. The second server must be refused instead, and the port must
// be free again once the first has stopped.
TEST(ServerPortTest, ASecondServerOnAPortInUseIsRefused) {
  SetLogQuiet(true);
  FederationConfig config;
  config.run_id = "port";
  config.model_spec_json = "{}";
  config.rounds = 1;
  auto core = FederationCore::Create(config, {FloatTensor("w", {6}, 1.0f)}, nullptr);
  ASSERT_THAT(core, IsOk());
  const ServerSecurity insecure{true, "", "", ""};
  auto first = FederationServer::Start("127.0.0.1:0", insecure, core->get(), Credentials());
  ASSERT_THAT(first, IsOk());
  const std::string address = "127.0.0.1:" + std::to_string((*first)->port());

  auto second = FederationServer::Start(address, insecure, core->get(), Credentials());
  EXPECT_EQ(second.status().code(), absl::StatusCode::kUnavailable) << second.status();

  first->reset();
  absl::StatusOr<std::unique_ptr<FederationServer>> again = absl::UnavailableError("not tried");
  for (int attempt = 0; attempt < 100 && absl::IsUnavailable(again.status()); ++attempt) {
    if (attempt > 0) absl::SleepFor(absl::Milliseconds(50));  // the listener closes asynchronously
    again = FederationServer::Start(address, insecure, core->get(), Credentials());
  }
  EXPECT_THAT(again, IsOk());
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
  // The clients come back (a real client joins again when a call gets NOT_FOUND).
  ASSERT_THAT(testing::JoinAs(*stub, kAlice), IsOk());
  ASSERT_THAT(testing::JoinAs(*stub, kBob), IsOk());
  auto task = AwaitTrainTask(*stub, kAlice, "alice");
  ASSERT_TRUE(AwaitTrainTask(*stub, kBob, "bob"));
  ASSERT_TRUE(task.has_value());
  EXPECT_EQ(task->round(), 3);
  EXPECT_EQ(task->model_version(), 2);
}

// One round, three clients of which two must send: the set-up of the
// client-loss tests.
FederationConfig OneRoundOfThree(const std::string& run_id, absl::Duration deadline) {
  FederationConfig config;
  config.run_id = run_id;
  config.model_spec_json = "{}";
  config.rounds = 1;
  config.min_clients = 2;
  config.min_available = 3;
  config.poll_interval = absl::Milliseconds(10);
  config.round_deadline = deadline;
  return config;
}

TEST(ClientLossTest, RoundClosesAtTheDeadlineWithTheRemainingClients) {
  SetLogQuiet(true);
  const FederationConfig config = OneRoundOfThree("loss", absl::Milliseconds(1500));
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

// Heartbeats as a training client sends them, until `until`.
void HeartbeatUntil(v1::Federation::Stub& stub, const std::string& token, const std::string& client,
                    absl::Time until) {
  while (absl::Now() < until) {
    grpc::ClientContext context;
    testing::Authorize(&context, token);
    v1::HeartbeatRequest request;
    request.set_client_id(client);
    v1::HeartbeatReply reply;
    ASSERT_TRUE(stub.Heartbeat(&context, request, &reply).ok());
    absl::SleepFor(absl::Milliseconds(100));
  }
}

// The deadline passes before any update while two of the three sampled
// clients are alive and still training, and the third is dead: the round
// waits for the two (before the fix it was dropped, their updates refused
// with "round 1 is not open", and with two clients alive of the three it
// needs, never reopened).
TEST(ClientLossTest, LiveClientsSlowerThanTheDeadlineKeepTheirRound) {
  SetLogQuiet(true);
  FederationConfig config = OneRoundOfThree("slow", absl::Milliseconds(1000));
  config.client_timeout = absl::Milliseconds(700);
  auto f = testing::StartFederation(config, {FloatTensor("w", {6}, 1.0f)}, nullptr, Credentials());
  ASSERT_NE(f, nullptr);
  auto stub = testing::InsecureStub(f->address());
  ASSERT_THAT(testing::JoinAs(*stub, kAlice), IsOk());
  ASSERT_THAT(testing::JoinAs(*stub, kBob), IsOk());
  ASSERT_THAT(testing::JoinAs(*stub, kCarol), IsOk());
  auto a = AwaitTrainTask(*stub, kAlice, "alice");
  auto b = AwaitTrainTask(*stub, kBob, "bob");
  auto c = AwaitTrainTask(*stub, kCarol, "carol");  // carol takes the task, then dies
  ASSERT_TRUE(a && b && c);
  // Alice and Bob train 1.6 s, past the 1 s deadline, heartbeating.
  const absl::Time done = absl::Now() + absl::Milliseconds(1600);
  std::thread bob_heartbeats([&] { HeartbeatUntil(*stub, kBob, "bob", done); });
  HeartbeatUntil(*stub, kAlice, "alice", done);
  bob_heartbeats.join();
  ASSERT_THAT(Submit(*stub, UpdateFor("alice", kAlice, *a, 0.5f)), IsOk());
  ASSERT_THAT(Submit(*stub, UpdateFor("bob", kBob, *b, 0.5f)), IsOk());
  ASSERT_TRUE(WaitForRounds(*f->core, 1));
  const RoundSummary s = f->core->history().at(0);
  EXPECT_EQ(s.participants, (std::vector<std::string>{"alice", "bob"}));
  EXPECT_EQ(s.dropped, std::vector<std::string>{"carol"});
}

// Two of three clients are sampled; one of them dies. At the deadline the
// round keeps the update it has and replaces the dead client by the live
// client that was not sampled (before the fix the round was sampled again
// from scratch, and the update it had was refused).
TEST(ClientLossTest, AGoneClientIsReplacedAndTheReceivedUpdateKept) {
  SetLogQuiet(true);
  FederationConfig config = OneRoundOfThree("replace", absl::Milliseconds(1000));
  config.fraction = 0.5;  // max(ceil(0.5 x 3), 2) = 2 sampled
  config.client_timeout = absl::Milliseconds(700);
  auto f = testing::StartFederation(config, {FloatTensor("w", {6}, 1.0f)}, nullptr, Credentials());
  ASSERT_NE(f, nullptr);
  auto stub = testing::InsecureStub(f->address());
  const std::map<std::string, std::string> tokens = {{"alice", kAlice}, {"bob", kBob}, {"carol", kCarol}};
  for (const auto& [name, token] : tokens) ASSERT_THAT(testing::JoinAs(*stub, token), IsOk());
  std::map<std::string, v1::TrainTask> sampled;
  std::string unsampled;
  const absl::Time give_up = absl::Now() + absl::Seconds(10);
  while (sampled.size() < 2 && absl::Now() < give_up) {
    for (const auto& [name, token] : tokens) {
      auto task = testing::PullAs(*stub, token, name);
      if (task.ok() && task->has_train()) sampled[name] = task->train();
    }
  }
  ASSERT_EQ(sampled.size(), 2u);
  for (const auto& [name, token] : tokens) {
    if (sampled.count(name) == 0) unsampled = name;
  }
  const std::string survivor = sampled.begin()->first, dead = std::next(sampled.begin())->first;
  ASSERT_THAT(Submit(*stub, UpdateFor(survivor, tokens.at(survivor), sampled.at(survivor), 0.5f)), IsOk());
  // The dead client is silent; the unsampled one heartbeats until it gets the task.
  std::optional<v1::TrainTask> replacement;
  while (!replacement && absl::Now() < give_up + absl::Seconds(5)) {
    auto task = testing::PullAs(*stub, tokens.at(unsampled), unsampled);
    if (task.ok() && task->has_train()) replacement = task->train();
    absl::SleepFor(absl::Milliseconds(50));
  }
  ASSERT_TRUE(replacement.has_value()) << unsampled << " never replaced " << dead;
  EXPECT_EQ(replacement->round(), 1);
  ASSERT_THAT(Submit(*stub, UpdateFor(unsampled, tokens.at(unsampled), *replacement, 0.5f)), IsOk());
  ASSERT_TRUE(WaitForRounds(*f->core, 1));
  const RoundSummary s = f->core->history().at(0);
  std::vector<std::string> expected = {survivor, unsampled};
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(s.participants, expected);
  EXPECT_EQ(s.dropped, std::vector<std::string>{dead});
}

}  // namespace
}  // namespace biofed
