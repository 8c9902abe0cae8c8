// Every kind of bad update gets its own precise status, and leaves the
// round and the global model exactly as they were.
#include <grpcpp/generic/generic_stub.h>
#include <gtest/gtest.h>

#include "common/log.h"
#include "tests/testing/federation_harness.h"
#include "tests/testing/status_matchers.h"
#include "wire/update_sender.h"

namespace biofed {
namespace {

using ::biofed::testing::AwaitTrainTask;
using ::biofed::testing::FloatTensor;
using ::biofed::testing::IsOk;
using ::biofed::testing::StatusIs;
using ::biofed::testing::Submission;

constexpr char kAlice[] = "alice-token-0123456789";
constexpr char kBob[] = "bob-token-0123456789ab";
constexpr char kEve[] = "eve-auditor-token-0123";

TensorTable SmallModel() {
  HostTensor counter;
  counter.name = "bn.num_batches_tracked";
  counter.dtype = DType::kInt64;
  counter.role = TensorRole::kBuffer;
  counter.bytes.assign(8, '\0');
  return {FloatTensor("fc.weight", {4, 3}, 0.1f), FloatTensor("fc.bias", {4}, -0.2f),
          FloatTensor("bn.running_mean", {4}, 0.0f, TensorRole::kBuffer), counter};
}

class UpdateValidationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    SetLogQuiet(true);
    FederationConfig config;
    config.run_id = "validation";
    config.model_spec_json = "{}";
    config.rounds = 3;
    config.min_clients = 2;
    config.lr = 0.1;
    config.round_deadline = absl::Seconds(120);
    config.poll_interval = absl::Milliseconds(10);
    CredentialStore credentials;
    ASSERT_THAT(credentials.Add("alice", {Role::kClient}, kAlice), IsOk());
    ASSERT_THAT(credentials.Add("bob", {Role::kClient}, kBob), IsOk());
    ASSERT_THAT(credentials.Add("eve", {Role::kAuditor}, kEve), IsOk());
    federation_ = testing::StartFederation(config, SmallModel(), nullptr, std::move(credentials));
    ASSERT_NE(federation_, nullptr);
    stub_ = testing::InsecureStub(federation_->address());
    ASSERT_THAT(testing::JoinAs(*stub_, kAlice), IsOk());
    ASSERT_THAT(testing::JoinAs(*stub_, kBob), IsOk());
    ASSERT_TRUE(AwaitTrainTask(*stub_, kAlice, "alice").has_value());
    before_ = *federation_->core->current_model();
  }

  Submission Valid(const std::string& client = "alice", const std::string& token = kAlice) const {
    Submission s;
    s.token = token;
    s.header.set_client_id(client);
    s.header.set_round(1);
    s.header.set_model_version(0);
    s.header.set_num_examples(10);
    s.header.set_shared_kind(v1::SHARED_PSEUDO_GRADIENT);
    s.header.set_lr(0.1);
    s.header.set_local_steps(1);
    s.header.set_batch_size(10);
    s.tensors = {FloatTensor("fc.weight", {4, 3}, 0.5f), FloatTensor("fc.bias", {4}, 0.25f),
                 FloatTensor("bn.running_mean", {4}, 1.0f, TensorRole::kBuffer)};
    return s;
  }

  void ExpectModelUnchanged() const {
    const TensorTable& now = *federation_->core->current_model();
    ASSERT_EQ(now.size(), before_.size());
    for (size_t i = 0; i < now.size(); ++i) EXPECT_EQ(now[i].bytes, before_[i].bytes) << now[i].name;
    EXPECT_EQ(federation_->core->completed_rounds(), 0);
  }

  // After a rejection the round still takes alice's valid update.
  void ExpectRoundStillOpenForAlice() { EXPECT_THAT(Submit(*stub_, Valid()), IsOk()); }

  // `s` sent as the real client sends it (SendUpdate: raw messages through
  // the generic stub, the payload read from the tensors' own memory).
  absl::Status Send(const Submission& s, size_t chunk_bytes, v1::SubmitReply* reply) const {
    grpc::GenericStub stub(grpc::CreateChannel(federation_->address(), grpc::InsecureChannelCredentials()));
    grpc::ClientContext context;
    testing::Authorize(&context, s.token);
    const v1::AuditManifest* audit = s.audit ? &*s.audit : nullptr;
    return SendUpdate(stub, &context, s.header, std::make_shared<const TensorTable>(s.tensors), audit, chunk_bytes,
                      reply);
  }

  // After round 1 closes with `a` and `b`: the model moved by their
  // example-weighted mean, computed here independently.
  void ExpectRoundAggregated(const Submission& a, const Submission& b) const {
    const absl::Time end = absl::Now() + absl::Seconds(10);
    while (federation_->core->completed_rounds() < 1 && absl::Now() < end) absl::SleepFor(absl::Milliseconds(5));
    ASSERT_EQ(federation_->core->completed_rounds(), 1);
    const TensorTable& after = *federation_->core->current_model();
    const double total = static_cast<double>(a.header.num_examples() + b.header.num_examples());
    const double wa = static_cast<double>(a.header.num_examples()) / total;
    for (size_t t = 0; t < 3; ++t) {
      const HostTensor& w0 = before_[t];
      for (size_t i = 0; i < w0.bytes.size() / 4; ++i) {
        const double mean = wa * a.tensors[t].floats()[i] + (1 - wa) * b.tensors[t].floats()[i];
        const double expected = w0.role == TensorRole::kParameter ? w0.floats()[i] - 0.1 * mean : mean;
        // float32 accumulation of two terms: a few ulps of values below 4.
        EXPECT_NEAR(after[t].floats()[i], expected, 1e-6) << w0.name << "[" << i << "]";
      }
    }
    EXPECT_EQ(after[3].bytes, before_[3].bytes);  // the int64 counter is kept
  }

  std::unique_ptr<testing::RunningFederation> federation_;
  std::unique_ptr<v1::Federation::Stub> stub_;
  TensorTable before_;
};

TEST_F(UpdateValidationTest, ValidUpdateIsAccepted) {
  EXPECT_THAT(Submit(*stub_, Valid()), IsOk());
  ExpectModelUnchanged();  // bob has not submitted: the round is still open
}

TEST_F(UpdateValidationTest, WrongShape) {
  Submission s = Valid();
  s.tensors[0] = FloatTensor("fc.weight", {3, 4}, 0.5f);
  EXPECT_THAT(Submit(*stub_, s), StatusIs(absl::StatusCode::kInvalidArgument, "has shape [3, 4], expected [4, 3]"));
  ExpectModelUnchanged();
  ExpectRoundStillOpenForAlice();
}

TEST_F(UpdateValidationTest, WrongDtype) {
  Submission s = Valid();
  s.tensors[1].dtype = DType::kInt32;  // same byte count, wrong type
  EXPECT_THAT(Submit(*stub_, s), StatusIs(absl::StatusCode::kInvalidArgument, "has dtype int32, expected float32"));
  ExpectModelUnchanged();
  ExpectRoundStillOpenForAlice();
}

TEST_F(UpdateValidationTest, NaN) {
  Submission s = Valid();
  s.tensors[0].mutable_floats()[5] = std::numeric_limits<float>::quiet_NaN();
  EXPECT_THAT(Submit(*stub_, s), StatusIs(absl::StatusCode::kInvalidArgument, "NaN or infinite"));
  ExpectModelUnchanged();
  ExpectRoundStillOpenForAlice();
}

TEST_F(UpdateValidationTest, Infinity) {
  Submission s = Valid();
  s.tensors[2].mutable_floats()[0] = std::numeric_limits<float>::infinity();
  EXPECT_THAT(Submit(*stub_, s), StatusIs(absl::StatusCode::kInvalidArgument, "NaN or infinite"));
  ExpectModelUnchanged();
}

TEST_F(UpdateValidationTest, StaleRound) {
  Submission s = Valid();
  s.header.set_round(0);
  EXPECT_THAT(Submit(*stub_, s), StatusIs(absl::StatusCode::kFailedPrecondition, "stale round 0"));
  ExpectModelUnchanged();
  ExpectRoundStillOpenForAlice();
}

TEST_F(UpdateValidationTest, FutureRound) {
  Submission s = Valid();
  s.header.set_round(2);
  EXPECT_THAT(Submit(*stub_, s), StatusIs(absl::StatusCode::kFailedPrecondition, "future round 2"));
  ExpectModelUnchanged();
  ExpectRoundStillOpenForAlice();
}

TEST_F(UpdateValidationTest, WrongModelVersion) {
  Submission s = Valid();
  s.header.set_model_version(1);
  EXPECT_THAT(Submit(*stub_, s), StatusIs(absl::StatusCode::kFailedPrecondition, "model version 1"));
  ExpectModelUnchanged();
}

TEST_F(UpdateValidationTest, UnknownClient) {
  EXPECT_THAT(Submit(*stub_, Valid("mallory", kAlice)), StatusIs(absl::StatusCode::kNotFound, "unknown client 'mallory'"));
  ExpectModelUnchanged();
  ExpectRoundStillOpenForAlice();
}

TEST_F(UpdateValidationTest, AnotherClientsCredential) {
  EXPECT_THAT(Submit(*stub_, Valid("alice", kBob)),
              StatusIs(absl::StatusCode::kPermissionDenied, "credential of 'bob' cannot submit for 'alice'"));
  ExpectModelUnchanged();
  ExpectRoundStillOpenForAlice();
}

TEST_F(UpdateValidationTest, BadCredential) {
  EXPECT_THAT(Submit(*stub_, Valid("alice", "not-a-known-token-at-all")),
              StatusIs(absl::StatusCode::kUnauthenticated, "unknown credential"));
  ExpectModelUnchanged();
  ExpectRoundStillOpenForAlice();
}

TEST_F(UpdateValidationTest, AuditorCannotSubmit) {
  EXPECT_THAT(Submit(*stub_, Valid("eve", kEve)), StatusIs(absl::StatusCode::kPermissionDenied, "lacks the client role"));
  ExpectModelUnchanged();
}

TEST_F(UpdateValidationTest, OversizeTensor) {
  // Declared 2^40 floats (4 TiB): refused from the declaration, before any byte is read.
  Submission s = Valid();
  s.tensors[0].shape = {int64_t{1} << 20, int64_t{1} << 20};
  EXPECT_THAT(Submit(*stub_, s), StatusIs(absl::StatusCode::kResourceExhausted, "exceeds the size limit"));
  ExpectModelUnchanged();
  ExpectRoundStillOpenForAlice();
}

TEST_F(UpdateValidationTest, TruncatedStream) {
  Submission s = Valid();
  s.withhold_bytes = 8;
  s.send_trailer = false;
  EXPECT_THAT(Submit(*stub_, s), StatusIs(absl::StatusCode::kDataLoss, "truncated"));
  ExpectModelUnchanged();
  ExpectRoundStillOpenForAlice();
}

TEST_F(UpdateValidationTest, StreamCancelledByItsClientMidway) {
  // The header and the first tensor whole, then the client goes away: the
  // call is cancelled rather than half-closed.
  const Submission s = Valid();
  grpc::ClientContext context;
  testing::Authorize(&context, s.token);
  v1::SubmitReply reply;
  auto writer = stub_->SubmitUpdate(&context, &reply);
  v1::UpdateChunk header;
  *header.mutable_header() = s.header;
  DescribeTable(s.tensors, header.mutable_header()->mutable_tensors());
  ASSERT_TRUE(writer->Write(header));
  v1::UpdateChunk data;
  data.mutable_data()->set_tensor_index(0);
  data.mutable_data()->set_payload(std::string(s.tensors[0].bytes));
  data.mutable_data()->set_tensor_crc32c(Crc32c(s.tensors[0].bytes.data(), s.tensors[0].bytes.size()));
  ASSERT_TRUE(writer->Write(data));
  context.TryCancel();
  EXPECT_THAT(FromGrpcStatus(writer->Finish()), StatusIs(absl::StatusCode::kCancelled, ""));
  ExpectModelUnchanged();
  ExpectRoundStillOpenForAlice();
}

TEST_F(UpdateValidationTest, ShortDataWithTrailer) {
  Submission s = Valid();
  s.withhold_bytes = 8;
  EXPECT_THAT(Submit(*stub_, s), StatusIs(absl::StatusCode::kDataLoss, "truncated: tensor 'bn.running_mean' has 8 of 16"));
  ExpectModelUnchanged();
}

TEST_F(UpdateValidationTest, BadChecksum) {
  Submission s = Valid();
  s.crc_of_first = 0x12345678u;
  EXPECT_THAT(Submit(*stub_, s), StatusIs(absl::StatusCode::kDataLoss, "checksum mismatch in tensor 'fc.weight'"));
  ExpectModelUnchanged();
  ExpectRoundStillOpenForAlice();
}

TEST_F(UpdateValidationTest, DuplicateSubmission) {
  ASSERT_THAT(Submit(*stub_, Valid()), IsOk());
  EXPECT_THAT(Submit(*stub_, Valid()),
              StatusIs(absl::StatusCode::kAlreadyExists, "'alice' already submitted an update for round 1"));
  ExpectModelUnchanged();
}

TEST_F(UpdateValidationTest, MissingAndUnexpectedTensors) {
  Submission missing = Valid();
  missing.tensors.pop_back();
  EXPECT_THAT(Submit(*stub_, missing), StatusIs(absl::StatusCode::kInvalidArgument, "missing tensor 'bn.running_mean'"));
  Submission extra = Valid();
  extra.tensors.push_back(FloatTensor("fc2.weight", {2}, 0.f));
  EXPECT_THAT(Submit(*stub_, extra), StatusIs(absl::StatusCode::kInvalidArgument, "unexpected tensor 'fc2.weight'"));
  ExpectModelUnchanged();
  ExpectRoundStillOpenForAlice();
}

TEST_F(UpdateValidationTest, UnauthenticatedCallsAndObserverWithoutAuditorRole) {
  grpc::ClientContext pull;
  v1::PullTaskRequest request;
  request.set_client_id("alice");
  v1::Task task;
  EXPECT_EQ(stub_->PullTask(&pull, request, &task).error_code(), grpc::StatusCode::UNAUTHENTICATED);

  grpc::ClientContext observe;
  testing::Authorize(&observe, kAlice);
  auto reader = stub_->Observe(&observe, v1::ObserveRequest());
  v1::ObservationChunk chunk;
  EXPECT_FALSE(reader->Read(&chunk));
  EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::PERMISSION_DENIED);
}

TEST_F(UpdateValidationTest, RoundAggregatesTheExampleWeightedMean) {
  Submission a = Valid();
  Submission b = Valid("bob", kBob);
  b.header.set_num_examples(30);
  b.tensors = {FloatTensor("fc.weight", {4, 3}, -1.0f), FloatTensor("fc.bias", {4}, 2.0f),
               FloatTensor("bn.running_mean", {4}, 3.0f, TensorRole::kBuffer)};
  ASSERT_THAT(Submit(*stub_, a), IsOk());
  ASSERT_THAT(Submit(*stub_, b), IsOk());
  ExpectRoundAggregated(a, b);  // weights 10/40 and 30/40, step lr * server_lr = 0.1
  const RoundSummary summary = federation_->core->history().at(0);
  EXPECT_EQ(summary.examples, 40);
  EXPECT_EQ(summary.participants, (std::vector<std::string>{"alice", "bob"}));
}

TEST_F(UpdateValidationTest, TheClientsSenderIsAcceptedAndAggregated) {
  Submission a = Valid();
  a.tensors[0].mutable_floats()[7] = -0.75f;
  a.audit.emplace();
  a.audit->set_dataset("fashion_mnist");
  Submission b = Valid("bob", kBob);
  b.header.set_num_examples(30);
  b.tensors = {FloatTensor("fc.weight", {4, 3}, -1.0f), FloatTensor("fc.bias", {4}, 2.0f),
               FloatTensor("bn.running_mean", {4}, 3.0f, TensorRole::kBuffer)};
  v1::SubmitReply reply;
  // 12-byte chunks: several per tensor.
  ASSERT_THAT(Send(a, /*chunk_bytes=*/12, &reply), IsOk());
  EXPECT_TRUE(reply.accepted());
  EXPECT_EQ(reply.round(), 1);
  ASSERT_THAT(Send(b, kDefaultChunkBytes, &reply), IsOk());
  ExpectRoundAggregated(a, b);
}

TEST_F(UpdateValidationTest, TheClientsSenderGetsEachRefusalsStatus) {
  v1::SubmitReply reply;
  Submission stale = Valid();
  stale.header.set_round(0);
  EXPECT_THAT(Send(stale, 12, &reply), StatusIs(absl::StatusCode::kFailedPrecondition, "stale round 0"));
  Submission nan = Valid();
  nan.tensors[0].mutable_floats()[5] = std::numeric_limits<float>::quiet_NaN();
  EXPECT_THAT(Send(nan, 12, &reply), StatusIs(absl::StatusCode::kInvalidArgument, "NaN or infinite"));
  EXPECT_THAT(Send(Valid("alice", "not-a-known-token-at-all"), 12, &reply),
              StatusIs(absl::StatusCode::kUnauthenticated, "unknown credential"));
  ExpectModelUnchanged();
  ExpectRoundStillOpenForAlice();
}

}  // namespace
}  // namespace biofed
