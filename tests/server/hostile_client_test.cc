// Issue #20, "Hostile clients": what an authenticated client can send
// beyond a malformed stream (absurd numbers, control characters, huge
// strings, calls without joining) gets its precise status and leaves the
// round and the global model as they were.
#include <cfloat>
#include <cmath>
#include <cstring>
#include <functional>
#include <limits>

#include <gtest/gtest.h>

#include "common/log.h"
#include "server/update_norm.h"
#include "tests/testing/federation_harness.h"
#include "tests/testing/status_matchers.h"

namespace biofed {
namespace {

using ::biofed::testing::AwaitTrainTask;
using ::biofed::testing::FloatTensor;
using ::biofed::testing::IsOk;
using ::biofed::testing::StatusIs;
using ::biofed::testing::Submission;

constexpr char kAlice[] = "alice-token-0123456789";
constexpr char kBob[] = "bob-token-0123456789ab";
constexpr char kCarol[] = "carol-token-0123456789";

TensorTable SmallModel() {
  return {FloatTensor("fc.weight", {4, 3}, 0.1f), FloatTensor("fc.bias", {4}, -0.2f),
          FloatTensor("bn.running_mean", {4}, 0.0f, TensorRole::kBuffer)};
}

class HostileClientTest : public ::testing::Test {
 protected:
  // A federation of alice and bob (carol has a credential but does not
  // join), changed by `adjust`; waits until alice is sampled for round 1
  // unless the round needs more clients than that.
  void Start(const std::function<void(FederationConfig&)>& adjust = nullptr) {
    SetLogQuiet(true);
    FederationConfig config;
    config.run_id = "hostile";
    config.model_spec_json = "{}";
    config.rounds = 2;
    config.min_clients = 2;
    config.lr = 0.1;
    config.round_deadline = absl::Seconds(120);
    config.poll_interval = absl::Milliseconds(10);
    if (adjust) adjust(config);
    CredentialStore credentials;
    ASSERT_THAT(credentials.Add("alice", {Role::kClient}, kAlice), IsOk());
    ASSERT_THAT(credentials.Add("bob", {Role::kClient}, kBob), IsOk());
    ASSERT_THAT(credentials.Add("carol", {Role::kClient}, kCarol), IsOk());
    federation_ = testing::StartFederation(config, SmallModel(), nullptr, std::move(credentials));
    ASSERT_NE(federation_, nullptr);
    stub_ = testing::InsecureStub(federation_->address());
    ASSERT_THAT(testing::JoinAs(*stub_, kAlice), IsOk());
    ASSERT_THAT(testing::JoinAs(*stub_, kBob), IsOk());
    before_ = *federation_->core->current_model();
    if (config.min_available <= 2) {
      ASSERT_TRUE(AwaitTrainTask(*stub_, kAlice, "alice").has_value());
    }
  }

  static Submission Valid(const std::string& client = "alice", const std::string& token = kAlice) {
    Submission s;
    s.token = token;
    s.header.set_client_id(client);
    s.header.set_round(1);
    s.header.set_model_version(0);
    s.header.set_num_examples(10);
    s.header.set_shared_kind(v1::SHARED_PSEUDO_GRADIENT);
    s.header.set_lr(0.1);
    (*s.header.mutable_metrics())["train_loss"] = 0.5;
    s.tensors = {FloatTensor("fc.weight", {4, 3}, 0.5f), FloatTensor("fc.bias", {4}, 0.25f),
                 FloatTensor("bn.running_mean", {4}, 1.0f, TensorRole::kBuffer)};
    return s;
  }

  // Every value of the first tensor FLT_MAX: finite, and ruinous.
  static Submission Ruinous() {
    Submission s = Valid();
    HostTensor& w = s.tensors[0];
    for (size_t i = 0; i < w.bytes.size() / 4; ++i) w.mutable_floats()[i] = FLT_MAX;
    return s;
  }

  void ExpectModelUnchanged() const {
    const TensorTable& now = *federation_->core->current_model();
    ASSERT_EQ(now.size(), before_.size());
    for (size_t i = 0; i < now.size(); ++i) EXPECT_EQ(now[i].bytes, before_[i].bytes) << now[i].name;
    EXPECT_EQ(federation_->core->completed_rounds(), 0);
  }

  // The refusal left round 1 open: alice's valid update is still taken.
  void ExpectRoundStillOpenForAlice() { EXPECT_THAT(Submit(*stub_, Valid()), IsOk()); }

  bool WaitForRound(int64_t round) const {
    const absl::Time end = absl::Now() + absl::Seconds(10);
    while (federation_->core->completed_rounds() < round && absl::Now() < end) absl::SleepFor(absl::Milliseconds(5));
    return federation_->core->completed_rounds() >= round;
  }

  std::unique_ptr<testing::RunningFederation> federation_;
  std::unique_ptr<v1::Federation::Stub> stub_;
  TensorTable before_;
};

// Defect 1: a NaN loss was accepted, written to the checkpoint as null, and
// the restarted server refused its own checkpoint.
TEST_F(HostileClientTest, NonFiniteMetricsAreRefused) {
  Start();
  Submission nan = Valid();
  (*nan.header.mutable_metrics())["train_loss"] = std::numeric_limits<double>::quiet_NaN();
  EXPECT_THAT(Submit(*stub_, nan),
              StatusIs(absl::StatusCode::kInvalidArgument, "metric 'train_loss' is not a finite number"));
  Submission inf = Valid();
  (*inf.header.mutable_metrics())["train_accuracy"] = -std::numeric_limits<double>::infinity();
  EXPECT_THAT(Submit(*stub_, inf),
              StatusIs(absl::StatusCode::kInvalidArgument, "metric 'train_accuracy' is not a finite number"));
  ExpectModelUnchanged();
  ExpectRoundStillOpenForAlice();
}

// Defect 2: one client claiming 1e15 examples owned the weighted mean.
TEST_F(HostileClientTest, ExampleCountsAboveTheCapAreRefused) {
  Start([](FederationConfig& c) { c.max_examples_per_update = 1000; });
  Submission s = Valid();
  s.header.set_num_examples(1000000000000000);
  EXPECT_THAT(Submit(*stub_, s),
              StatusIs(absl::StatusCode::kInvalidArgument, "num_examples 1000000000000000 exceeds the limit of 1000"));
  s.header.set_num_examples(1000);  // the cap itself is allowed
  EXPECT_THAT(Submit(*stub_, s), IsOk());
  ExpectModelUnchanged();
}

TEST_F(HostileClientTest, TheDefaultCapRefusesAbsurdExampleCounts) {
  Start();
  Submission s = Valid();
  s.header.set_num_examples(std::numeric_limits<int64_t>::max());
  EXPECT_THAT(Submit(*stub_, s), StatusIs(absl::StatusCode::kInvalidArgument, "exceeds the limit of 10000000"));
  ExpectModelUnchanged();
  ExpectRoundStillOpenForAlice();
}

// Defect 2: two clients claiming 2^63 - 1 examples overflowed the round's
// sum (signed overflow: undefined, in practice -2). Even with the cap
// lifted the sum saturates.
TEST_F(HostileClientTest, TheRoundsExampleSumSaturates) {
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  Start([](FederationConfig& c) { c.max_examples_per_update = kMax; });
  Submission a = Valid();
  a.header.set_num_examples(kMax);
  Submission b = Valid("bob", kBob);
  b.header.set_num_examples(kMax);
  ASSERT_THAT(Submit(*stub_, a), IsOk());
  ASSERT_THAT(Submit(*stub_, b), IsOk());
  ASSERT_TRUE(WaitForRound(1));
  EXPECT_EQ(federation_->core->history().at(0).examples, kMax);
}

// Defect 2: an update of FLT_MAX entries was accepted and the weights
// reached 1.7e37.
TEST_F(HostileClientTest, AnUpdateAboveTheNormBoundIsRefused) {
  Start([](FederationConfig& c) { c.max_update_norm = 100; });
  EXPECT_THAT(Submit(*stub_, Ruinous()), StatusIs(absl::StatusCode::kInvalidArgument, "exceeds the limit of 100"));
  ExpectModelUnchanged();
  ExpectRoundStillOpenForAlice();
}

TEST_F(HostileClientTest, AnUpdateAboveTheNormBoundIsClipped) {
  Start([](FederationConfig& c) {
    c.max_update_norm = 10;
    c.update_norm_policy = UpdateNormPolicy::kClip;
  });
  ASSERT_THAT(Submit(*stub_, Ruinous()), IsOk());
  ASSERT_THAT(Submit(*stub_, Valid("bob", kBob)), IsOk());
  ASSERT_TRUE(WaitForRound(1));
  // Both updates have norm <= 10, so their mean has too: a parameter moves
  // by at most step (0.1) x 10, a buffer's new value is at most 10.
  const TensorTable& after = *federation_->core->current_model();
  for (size_t t = 0; t < after.size(); ++t) {
    for (size_t i = 0; i < after[t].bytes.size() / 4; ++i) {
      const double bound = after[t].role == TensorRole::kParameter ? 1.0 : 10.0;
      const double base = after[t].role == TensorRole::kParameter ? before_[t].floats()[i] : 0.0;
      EXPECT_LE(std::abs(after[t].floats()[i] - base), bound + 1e-5) << after[t].name << "[" << i << "]";
    }
  }
}

// Defect 3: client ids and tensor names reached log lines and status
// messages verbatim, newlines included.
TEST_F(HostileClientTest, ControlCharactersInClientStringsAreEscaped) {
  Start();
  const absl::Status unknown = Submit(*stub_, Valid("alice\nW 12:00:00.000 [server] forged", kAlice));
  EXPECT_THAT(unknown, StatusIs(absl::StatusCode::kNotFound, "unknown client 'alice\\nW 12:00:00.000"));
  EXPECT_EQ(std::string(unknown.message()).find('\n'), std::string::npos);
  Submission named = Valid();
  named.tensors.push_back(FloatTensor("fc2.weight\n\x1b[2J'", {2}, 0.f));
  const absl::Status unexpected = Submit(*stub_, named);
  EXPECT_THAT(unexpected, StatusIs(absl::StatusCode::kInvalidArgument, "unexpected tensor 'fc2.weight\\n\\x1b[2J\\''"));
  EXPECT_EQ(std::string(unexpected.message()).find_first_of("\n\x1b"), std::string::npos);
  ExpectModelUnchanged();
  ExpectRoundStillOpenForAlice();
}

// Defect 4: a 3 MiB tensor name came back in the status message, which
// exceeded the client's metadata limit: the caller saw RESOURCE_EXHAUSTED
// instead of the real code.
TEST_F(HostileClientTest, AHugeTensorNameKeepsTheRealStatusCode) {
  Start();
  Submission named = Valid();
  named.tensors.push_back(FloatTensor(std::string(3 << 20, 'x'), {2}, 0.f));
  const absl::Status status = Submit(*stub_, named);
  EXPECT_THAT(status, StatusIs(absl::StatusCode::kInvalidArgument, "...(3145728 bytes)'"));
  EXPECT_LT(status.message().size(), 1024u);
  ExpectModelUnchanged();
  ExpectRoundStillOpenForAlice();
}

// Defect 5: a credential that never joined was registered by PullTask or
// Heartbeat, then sampled, and the round waited out its deadline for it.
TEST_F(HostileClientTest, CallsFromACredentialThatNeverJoinedAreNotFound) {
  Start([](FederationConfig& c) { c.min_available = 3; });
  EXPECT_THAT(testing::PullAs(*stub_, kCarol, "carol"),
              StatusIs(absl::StatusCode::kNotFound, "'carol' has not joined"));
  grpc::ClientContext context;
  testing::Authorize(&context, kCarol);
  v1::HeartbeatRequest request;
  request.set_client_id("carol");
  v1::HeartbeatReply reply;
  EXPECT_THAT(FromGrpcStatus(stub_->Heartbeat(&context, request, &reply)),
              StatusIs(absl::StatusCode::kNotFound, "'carol' has not joined"));
  // Carol was not registered: with two live clients of the three needed,
  // no round opens.
  absl::SleepFor(absl::Milliseconds(300));
  auto task = testing::PullAs(*stub_, kAlice, "alice");
  ASSERT_THAT(task, IsOk());
  EXPECT_TRUE(task->has_wait());
  // Once she joins, the round opens.
  ASSERT_THAT(testing::JoinAs(*stub_, kCarol), IsOk());
  EXPECT_TRUE(AwaitTrainTask(*stub_, kCarol, "carol").has_value());
}

// Defect 6: the 2 GiB total was checked after the shapes, so an oversized
// update got INVALID_ARGUMENT (its first shape differs from the model's)
// instead of RESOURCE_EXHAUSTED.
// Defect 6: a stream that stalled after its header held its assembly
// buffer until the client's own deadline. Now it is ended with
// FAILED_PRECONDITION as soon as its round closes (here at the deadline,
// with bob's update), long before the client's 30 s deadline.
TEST_F(HostileClientTest, AStreamStalledPastItsRoundIsEndedWhenTheRoundCloses) {
  Start([](FederationConfig& c) {
    c.min_clients = 1;
    c.min_available = 2;
    c.round_deadline = absl::Seconds(1);
  });
  ASSERT_TRUE(AwaitTrainTask(*stub_, kAlice, "alice").has_value());
  grpc::ClientContext context;
  testing::Authorize(&context, kAlice);
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  v1::SubmitReply reply;
  auto writer = stub_->SubmitUpdate(&context, &reply);
  const Submission stalled = Valid();
  v1::UpdateChunk header;
  *header.mutable_header() = stalled.header;
  DescribeTable(stalled.tensors, header.mutable_header()->mutable_tensors());
  ASSERT_TRUE(writer->Write(header));
  const absl::Time start = absl::Now();
  ASSERT_THAT(Submit(*stub_, Valid("bob", kBob)), IsOk());
  ASSERT_TRUE(WaitForRound(1));
  EXPECT_THAT(FromGrpcStatus(writer->Finish()),
              StatusIs(absl::StatusCode::kFailedPrecondition, "round 1 closed while this update was still arriving"));
  EXPECT_LT(absl::Now() - start, absl::Seconds(10));
}

TEST_F(HostileClientTest, AnUpdateAboveTheTotalSizeLimitIsResourceExhausted) {
  Start();
  Submission s = Valid();
  for (HostTensor& t : s.tensors) t.shape = {16384, 16384};  // 1 GiB each, 3 GiB in all
  EXPECT_THAT(Submit(*stub_, s), StatusIs(absl::StatusCode::kResourceExhausted, "total size limit"));
  ExpectModelUnchanged();
  ExpectRoundStillOpenForAlice();
}

TEST(UpdateNormTest, IsTheL2NormOfEveryFloatValue) {
  HostTensor doubles;
  doubles.dtype = DType::kFloat64;
  doubles.shape = {1};
  doubles.bytes.resize(8);
  const double twelve = 12;
  std::memcpy(doubles.bytes.data(), &twelve, 8);
  TensorTable update = {FloatTensor("a", {2}, 0.f), doubles};
  update[0].mutable_floats()[0] = 3;
  update[0].mutable_floats()[1] = 4;
  EXPECT_DOUBLE_EQ(UpdateNorm(update), 13.0);  // sqrt(9 + 16 + 144)
}

TEST(UpdateNormTest, ClipsToTheBoundOrRefuses) {
  TensorTable update = {FloatTensor("a", {2}, 0.f)};
  update[0].mutable_floats()[0] = 3;
  update[0].mutable_floats()[1] = 4;
  TensorTable refused = update;
  EXPECT_THAT(BoundUpdateNorm(refused, 4.5, UpdateNormPolicy::kReject),
              StatusIs(absl::StatusCode::kInvalidArgument, "L2 norm 5 exceeds the limit of 4.5"));
  EXPECT_EQ(refused[0].bytes, update[0].bytes);
  auto clipped = BoundUpdateNorm(update, 1.0, UpdateNormPolicy::kClip);
  ASSERT_THAT(clipped, IsOk());
  EXPECT_TRUE(clipped->clipped);
  EXPECT_DOUBLE_EQ(clipped->norm, 5.0);
  EXPECT_FLOAT_EQ(update[0].floats()[0], 0.6f);
  EXPECT_FLOAT_EQ(update[0].floats()[1], 0.8f);
  auto kept = BoundUpdateNorm(update, 0, UpdateNormPolicy::kReject);  // no bound
  ASSERT_THAT(kept, IsOk());
  EXPECT_FALSE(kept->clipped);
}

TEST(UpdateNormTest, ANormThatOverflowsIsRefusedEvenWithoutABound) {
  HostTensor huge;
  huge.name = "w";
  huge.dtype = DType::kFloat64;
  huge.shape = {1};
  huge.bytes.resize(8);
  const double value = 1e200;  // finite; its square is not
  std::memcpy(huge.bytes.data(), &value, 8);
  TensorTable update = {huge};
  EXPECT_TRUE(std::isinf(UpdateNorm(update)));
  for (UpdateNormPolicy policy : {UpdateNormPolicy::kReject, UpdateNormPolicy::kClip}) {
    EXPECT_THAT(BoundUpdateNorm(update, 0, policy), StatusIs(absl::StatusCode::kInvalidArgument, "overflows"));
  }
}

}  // namespace
}  // namespace biofed
