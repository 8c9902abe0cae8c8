// The client's update sender (SendUpdate) against a recording server that
// sees each raw message as it crossed the wire: the stream is the one the
// protocol defines (header, chunks of at most the limit, each tensor's
// CRC-32C on its last chunk, manifest, trailer), the bytes are the tensors'
// own, bit for bit, and every way a call can end (refusal before or during
// the stream, an OK without a usable reply, cancellation, a deadline, no
// server) comes back as its own status, with the update let go of.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <future>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include <google/protobuf/util/message_differencer.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/generic/async_generic_service.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/server_builder.h>
#include <gtest/gtest.h>

#include "absl/time/clock.h"
#include "tests/testing/crc32c_reference.h"
#include "tests/testing/status_matchers.h"
#include "wire/update_sender.h"

namespace biofed {
namespace {

using ::biofed::testing::BitwiseCrc32c;
using ::biofed::testing::IsOk;
using ::biofed::testing::StatusIs;
using ::google::protobuf::util::MessageDifferencer;

// How the recording server answers a call.
struct Script {
  int refuse_after = -1;  // messages read before it refuses with `refusal`; -1: never
  grpc::Status refusal;
  int stall_after = -1;  // messages read before it stops reading; the call then ends only by cancellation
  bool reply = true;     // at the end of the stream: a reply and OK; false: OK alone
  std::string reply_bytes;
};

Script Replying(std::string reply_bytes) {
  Script script;
  script.reply_bytes = std::move(reply_bytes);
  return script;
}

Script Refusing(int after, grpc::Status refusal) {
  Script script;
  script.refuse_after = after;
  script.refusal = std::move(refusal);
  return script;
}

Script Stalling(int after) {
  Script script;
  script.stall_after = after;
  return script;
}

Script OkWithoutReply() {
  Script script;
  script.reply = false;
  return script;
}

// What the recording server saw of its call.
struct Record {
  std::string method;
  std::string authorization;
  std::vector<std::string> messages;  // the bytes of each message, as received
  bool client_half_closed = false;
  bool cancelled = false;
};

// A server of one generic callback service: it takes any method, reads raw
// messages and answers as scripted.
class RecordingServer {
 public:
  explicit RecordingServer(Script script) : service_(this), script_(std::move(script)) {
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
    builder.RegisterCallbackGenericService(&service_);
    server_ = builder.BuildAndStart();
  }
  ~RecordingServer() {
    if (server_ != nullptr) server_->Shutdown(std::chrono::system_clock::now());
  }

  bool started() const { return server_ != nullptr && port_ > 0; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }

  // True once `n` messages have arrived, false after `timeout`.
  bool AwaitMessages(size_t n, absl::Duration timeout = absl::Seconds(20)) {
    std::unique_lock<std::mutex> lock(mutex_);
    return changed_.wait_for(lock, std::chrono::milliseconds(absl::ToInt64Milliseconds(timeout)),
                             [&] { return record_.messages.size() >= n; });
  }
  // The record once the call is over (empty after `timeout`).
  std::optional<Record> AwaitDone(absl::Duration timeout = absl::Seconds(20)) {
    std::unique_lock<std::mutex> lock(mutex_);
    const auto wait = std::chrono::milliseconds(absl::ToInt64Milliseconds(timeout));
    if (!changed_.wait_for(lock, wait, [&] { return done_; })) return std::nullopt;
    return record_;
  }

 private:
  class Reactor final : public grpc::ServerGenericBidiReactor {
   public:
    Reactor(RecordingServer* owner, grpc::GenericCallbackServerContext* context) : owner_(owner) {
      {
        std::lock_guard<std::mutex> lock(owner_->mutex_);
        owner_->record_.method = context->method();
        const auto auth = context->client_metadata().find("authorization");
        if (auth != context->client_metadata().end()) {
          owner_->record_.authorization = std::string(auth->second.data(), auth->second.size());
        }
      }
      if (owner_->script_.refuse_after == 0) {
        Conclude(owner_->script_.refusal);
      } else {
        StartRead(&message_);
      }
    }

    void OnReadDone(bool ok) override {
      const Script& script = owner_->script_;
      if (!ok) {
        owner_->Note([](Record& r) { r.client_half_closed = true; });
        if (!script.reply) return Conclude(grpc::Status::OK);
        const grpc::Slice slice(script.reply_bytes);
        reply_ = grpc::ByteBuffer(&slice, 1);
        StartWrite(&reply_);
        return;
      }
      std::vector<grpc::Slice> slices;
      EXPECT_TRUE(message_.Dump(&slices).ok());
      std::string bytes;
      for (const grpc::Slice& s : slices) bytes.append(reinterpret_cast<const char*>(s.begin()), s.size());
      message_.Clear();
      size_t count = 0;
      owner_->Note([&](Record& r) {
        r.messages.push_back(std::move(bytes));
        count = r.messages.size();
      });
      if (static_cast<int>(count) == script.refuse_after) return Conclude(script.refusal);
      if (static_cast<int>(count) == script.stall_after) return;  // OnCancel ends it
      StartRead(&message_);
    }
    void OnWriteDone(bool /*ok*/) override { Conclude(grpc::Status::OK); }
    void OnCancel() override {
      owner_->Note([](Record& r) { r.cancelled = true; });
      Conclude(grpc::Status(grpc::StatusCode::CANCELLED, "cancelled"));
    }
    void OnDone() override {
      owner_->Note([](Record&) {}, /*done=*/true);
      delete this;
    }

   private:
    // Finishes once, whichever reaction gets there first.
    void Conclude(const grpc::Status& status) {
      if (!finished_.exchange(true)) Finish(status);
    }

    RecordingServer* const owner_;
    grpc::ByteBuffer message_;
    grpc::ByteBuffer reply_;
    std::atomic<bool> finished_{false};
  };

  class Service final : public grpc::CallbackGenericService {
   public:
    explicit Service(RecordingServer* owner) : owner_(owner) {}
    grpc::ServerGenericBidiReactor* CreateReactor(grpc::GenericCallbackServerContext* context) override {
      return new Reactor(owner_, context);
    }

   private:
    RecordingServer* const owner_;
  };

  template <typename Change>
  void Note(Change change, bool done = false) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      change(record_);
      done_ = done_ || done;
    }
    changed_.notify_all();
  }

  Service service_;
  const Script script_;
  std::mutex mutex_;
  std::condition_variable changed_;
  Record record_;
  bool done_ = false;
  int port_ = 0;
  std::unique_ptr<grpc::Server> server_;  // last: gone before what its reactors use
};

// A tensor of `bytes` bytes of random bit patterns: as floats these include
// NaNs, infinities, subnormals and negative zeros, which only a sender that
// never converts values passes on unchanged.
HostTensor RandomTensor(const std::string& name, DType dtype, std::vector<int64_t> shape, size_t element_size,
                        uint32_t seed) {
  HostTensor t;
  t.name = name;
  t.dtype = dtype;
  t.shape = std::move(shape);
  t.role = TensorRole::kParameter;
  size_t n = element_size;
  for (int64_t d : t.shape) n *= static_cast<size_t>(d);
  t.bytes.resize(n);
  std::mt19937 rng(seed);
  for (size_t i = 0; i < n; ++i) t.bytes.data()[i] = static_cast<char>(rng());
  return t;
}

// Three tensors with odd sizes, a buffer and one of no bytes.
std::shared_ptr<const TensorTable> OddUpdate() {
  auto table = std::make_shared<TensorTable>();
  table->push_back(RandomTensor("conv.weight", DType::kFloat32, {4, 7}, 4, 1));  // 112 bytes
  table->push_back(RandomTensor("empty", DType::kFloat32, {2, 0}, 4, 2));         // 0 bytes
  table->push_back(RandomTensor("steps", DType::kInt64, {3}, 8, 3));              // 24 bytes
  table->back().role = TensorRole::kBuffer;
  table->push_back(RandomTensor("fc.bias", DType::kFloat64, {1}, 8, 4));  // 8 bytes
  return table;
}

v1::UpdateHeader Header() {
  v1::UpdateHeader header;
  header.set_client_id("alice");
  header.set_round(3);
  header.set_model_version(2);
  header.set_num_examples(17);
  header.set_lr(0.05);
  header.set_shared_kind(v1::SHARED_PSEUDO_GRADIENT);
  (*header.mutable_metrics())["train_loss"] = 0.25;
  // A stale declaration, which the sender must replace with the update's.
  v1::TensorSpec* stale = header.add_tensors();
  stale->set_name("stale");
  stale->set_dtype(v1::DTYPE_UINT8);
  return header;
}

// What the header must declare for `table`, written out field by field.
v1::UpdateHeader ExpectedHeader(const TensorTable& table) {
  v1::UpdateHeader expected = Header();
  expected.clear_tensors();
  for (const HostTensor& t : table) {
    v1::TensorSpec* spec = expected.add_tensors();
    spec->set_name(t.name);
    spec->set_dtype(static_cast<v1::DType>(static_cast<int>(t.dtype)));
    for (int64_t d : t.shape) spec->add_shape(d);
    spec->set_role(t.role == TensorRole::kParameter ? v1::ROLE_PARAMETER : v1::ROLE_BUFFER);
  }
  return expected;
}

v1::AuditManifest Manifest() {
  v1::AuditManifest manifest;
  manifest.set_client_id("alice");
  manifest.set_round(3);
  manifest.set_dataset("fashion_mnist");
  for (int64_t i : {5, 3, 1000}) manifest.add_sample_indices(i);
  return manifest;
}

std::string SerializedReply(bool accepted, int64_t round) {
  v1::SubmitReply reply;
  reply.set_accepted(accepted);
  reply.set_round(round);
  return reply.SerializeAsString();
}

void Authorize(grpc::ClientContext* context, absl::Duration deadline) {
  context->AddMetadata("authorization", "Bearer alice-token");
  context->set_deadline(absl::ToChronoTime(absl::Now() + deadline));
}

// SendUpdate as the client calls it: a stub and a context of its own (a
// credential and `deadline`), both gone when it returns. gRPC's call, and
// with it any slice of `update` still queued in the transport, lives as
// long as the context.
absl::Status Send(const std::string& address, const std::shared_ptr<const TensorTable>& update,
                  const v1::AuditManifest* manifest, size_t chunk_bytes, v1::SubmitReply* reply,
                  absl::Duration deadline = absl::Seconds(20)) {
  grpc::GenericStub stub(grpc::CreateChannel(address, grpc::InsecureChannelCredentials()));
  grpc::ClientContext context;
  Authorize(&context, deadline);
  return SendUpdate(stub, &context, Header(), update, manifest, chunk_bytes, reply);
}

// One tensor of `floats` random float32 values.
std::shared_ptr<const TensorTable> OneTensor(int64_t floats, uint32_t seed) {
  auto table = std::make_shared<TensorTable>();
  table->push_back(RandomTensor("big", DType::kFloat32, {floats}, 4, seed));
  return table;
}

// Checks `messages` against the protocol, parsed by protobuf: the header,
// then for each tensor its bytes in order in chunks of `chunk_bytes` (the
// last one shorter), the last carrying the CRC-32C of the whole tensor, then
// the manifest if any, then a trailer counting every byte.
void ExpectProtocolStream(const std::vector<std::string>& messages, const TensorTable& table, size_t chunk_bytes,
                          const v1::AuditManifest* manifest) {
  size_t next = 0;
  v1::UpdateChunk chunk;
  auto take = [&]() -> bool {
    if (next >= messages.size()) {
      ADD_FAILURE() << "the stream ended after " << messages.size() << " messages";
      return false;
    }
    const bool parsed = chunk.ParseFromString(messages[next++]);
    EXPECT_TRUE(parsed) << "message " << next - 1;
    return parsed;
  };
  ASSERT_TRUE(take());
  ASSERT_TRUE(chunk.has_header());
  EXPECT_TRUE(MessageDifferencer::Equals(chunk.header(), ExpectedHeader(table))) << chunk.header().DebugString();
  uint64_t total = 0;
  for (size_t t = 0; t < table.size(); ++t) {
    const std::string_view bytes(table[t].bytes.data(), table[t].bytes.size());
    std::string arrived;
    for (size_t offset = 0; offset < bytes.size(); offset += chunk_bytes) {
      ASSERT_TRUE(take());
      ASSERT_TRUE(chunk.has_data()) << "tensor " << t << " offset " << offset;
      const v1::TensorData& data = chunk.data();
      EXPECT_EQ(data.tensor_index(), t);
      EXPECT_EQ(data.offset(), offset);
      const size_t size = std::min(chunk_bytes, bytes.size() - offset);
      ASSERT_EQ(data.payload().size(), size) << "tensor " << t << " offset " << offset;
      arrived += data.payload();
      const bool last = offset + size == bytes.size();
      ASSERT_EQ(data.has_tensor_crc32c(), last) << "tensor " << t << " offset " << offset;
      if (last) {
        EXPECT_EQ(data.tensor_crc32c(), BitwiseCrc32c(bytes)) << "tensor " << t;
      }
    }
    EXPECT_TRUE(arrived == bytes) << "tensor " << t << " differs";
    total += bytes.size();
  }
  if (manifest != nullptr) {
    ASSERT_TRUE(take());
    ASSERT_TRUE(chunk.has_audit());
    EXPECT_TRUE(MessageDifferencer::Equals(chunk.audit(), *manifest));
  }
  ASSERT_TRUE(take());
  ASSERT_TRUE(chunk.has_trailer());
  EXPECT_EQ(chunk.trailer().total_bytes(), total);
  EXPECT_EQ(next, messages.size()) << "messages after the trailer";
}

// Whether `update` is referenced by nothing but `update` within `timeout`:
// nothing in gRPC holds a slice over its memory any more.
bool Released(const std::shared_ptr<const TensorTable>& update, absl::Duration timeout = absl::Seconds(10)) {
  const absl::Time end = absl::Now() + timeout;
  while (update.use_count() > 1 && absl::Now() < end) absl::SleepFor(absl::Milliseconds(5));
  return update.use_count() == 1;
}

TEST(UpdateSenderTest, SendsTheProtocolsStreamBitForBitInChunksOfTheLimit) {
  const auto update = OddUpdate();
  const v1::AuditManifest manifest = Manifest();
  for (const size_t chunk_bytes : {size_t{10}, size_t{112}, size_t{113}}) {  // splits floats; exact; one chunk
    SCOPED_TRACE(chunk_bytes);
    RecordingServer server(Replying(SerializedReply(true, 4)));
    ASSERT_TRUE(server.started());
    v1::SubmitReply reply;
    ASSERT_THAT(Send(server.address(), update, &manifest, chunk_bytes, &reply), IsOk());
    EXPECT_TRUE(reply.accepted());
    EXPECT_EQ(reply.round(), 4);
    const std::optional<Record> record = server.AwaitDone();
    ASSERT_TRUE(record.has_value());
    EXPECT_EQ(record->method, "/biofed.v1.Federation/SubmitUpdate");
    EXPECT_EQ(record->authorization, "Bearer alice-token");
    EXPECT_TRUE(record->client_half_closed);
    ExpectProtocolStream(record->messages, *update, chunk_bytes, &manifest);
  }
  EXPECT_TRUE(Released(update));
}

TEST(UpdateSenderTest, ALargeUpdateInDefaultChunksArrivesWhole) {
  RecordingServer server(Replying(SerializedReply(true, 1)));
  ASSERT_TRUE(server.started());
  // 2.5 MiB and 3 bytes: two full chunks and a short one, more than gRPC's
  // flow-control windows hold at once.
  auto table = std::make_shared<TensorTable>();
  table->push_back(RandomTensor("big", DType::kUInt8, {(int64_t{5} << 19) + 3}, 1, 9));
  const std::shared_ptr<const TensorTable> update = std::move(table);
  v1::SubmitReply reply;
  ASSERT_THAT(Send(server.address(), update, nullptr, kDefaultChunkBytes, &reply), IsOk());
  const std::optional<Record> record = server.AwaitDone();
  ASSERT_TRUE(record.has_value());
  ASSERT_EQ(record->messages.size(), 5u);  // header, 3 chunks, trailer
  ExpectProtocolStream(record->messages, *update, kDefaultChunkBytes, nullptr);
  EXPECT_TRUE(Released(update));
}

TEST(UpdateSenderTest, ARefusalBeforeAnyMessageIsReportedWithItsCodeAndMessage) {
  RecordingServer server(Refusing(0, grpc::Status(grpc::StatusCode::PERMISSION_DENIED, "role client required")));
  ASSERT_TRUE(server.started());
  const auto update = OddUpdate();
  v1::SubmitReply reply;
  EXPECT_THAT(Send(server.address(), update, nullptr, 10, &reply),
              StatusIs(absl::StatusCode::kPermissionDenied, "role client required"));
  EXPECT_FALSE(reply.accepted());
  EXPECT_TRUE(Released(update));
}

TEST(UpdateSenderTest, ARefusalDuringTheStreamEndsTheCallWithItsStatus) {
  // Refused after the header and one chunk of an update of 4 MiB in 4 KiB
  // chunks: the sender stops writing and reports the refusal.
  RecordingServer server(Refusing(2, grpc::Status(grpc::StatusCode::FAILED_PRECONDITION, "stale round 0")));
  ASSERT_TRUE(server.started());
  const auto update = OneTensor(1 << 20, 5);
  v1::SubmitReply reply;
  EXPECT_THAT(Send(server.address(), update, nullptr, 4096, &reply),
              StatusIs(absl::StatusCode::kFailedPrecondition, "stale round 0"));
  const std::optional<Record> record = server.AwaitDone();
  ASSERT_TRUE(record.has_value());
  EXPECT_EQ(record->messages.size(), 2u);
  EXPECT_FALSE(record->client_half_closed);
  EXPECT_TRUE(Released(update));
}

TEST(UpdateSenderTest, AnOkWithoutAUsableReplyIsAnInternalError) {
  const auto update = OddUpdate();
  v1::SubmitReply reply;
  {
    RecordingServer server(OkWithoutReply());
    ASSERT_TRUE(server.started());
    EXPECT_THAT(Send(server.address(), update, nullptr, 10, &reply),
                StatusIs(absl::StatusCode::kInternal, "without a reply"));
  }
  {
    // Field 2 (round) as a varint whose bytes run out: not a SubmitReply.
    RecordingServer server(Replying(std::string("\x10\xff", 2)));
    ASSERT_TRUE(server.started());
    EXPECT_THAT(Send(server.address(), update, nullptr, 10, &reply),
                StatusIs(absl::StatusCode::kInternal, "SubmitReply"));
  }
  EXPECT_TRUE(Released(update));
}

TEST(UpdateSenderTest, CancellingTheContextMidStreamReturnsCancelled) {
  // The server stops reading after the header and two chunks; the caller
  // then cancels from another thread.
  RecordingServer server(Stalling(3));
  ASSERT_TRUE(server.started());
  const auto update = OneTensor(1 << 20, 6);
  grpc::GenericStub stub(grpc::CreateChannel(server.address(), grpc::InsecureChannelCredentials()));
  auto context = std::make_unique<grpc::ClientContext>();
  Authorize(context.get(), absl::Seconds(20));
  v1::SubmitReply reply;
  std::future<absl::Status> sent = std::async(std::launch::async, [&] {
    return SendUpdate(stub, context.get(), Header(), update, nullptr, 4096, &reply);
  });
  ASSERT_TRUE(server.AwaitMessages(3));
  context->TryCancel();
  ASSERT_EQ(sent.wait_for(std::chrono::seconds(20)), std::future_status::ready) << "SendUpdate hangs after cancel";
  EXPECT_THAT(sent.get(), StatusIs(absl::StatusCode::kCancelled, ""));
  const std::optional<Record> record = server.AwaitDone();
  ASSERT_TRUE(record.has_value());
  EXPECT_TRUE(record->cancelled);
  EXPECT_FALSE(record->client_half_closed);
  context.reset();
  EXPECT_TRUE(Released(update));
}

TEST(UpdateSenderTest, ADeadlineThatPassesMidStreamIsDeadlineExceeded) {
  RecordingServer server(Stalling(1));  // reads the header, then nothing
  ASSERT_TRUE(server.started());
  const auto update = OneTensor(1 << 20, 7);
  v1::SubmitReply reply;
  EXPECT_THAT(Send(server.address(), update, nullptr, 4096, &reply, /*deadline=*/absl::Milliseconds(300)),
              StatusIs(absl::StatusCode::kDeadlineExceeded, ""));
  const std::optional<Record> record = server.AwaitDone();
  ASSERT_TRUE(record.has_value());
  EXPECT_EQ(record->messages.size(), 1u);
  EXPECT_TRUE(record->cancelled);
  EXPECT_TRUE(Released(update));
}

TEST(UpdateSenderTest, NoServerIsUnavailable) {
  std::string address;
  {
    RecordingServer gone(Replying(""));  // a port that was just free, and is again
    ASSERT_TRUE(gone.started());
    address = gone.address();
  }
  const auto update = OddUpdate();
  v1::SubmitReply reply;
  EXPECT_THAT(Send(address, update, nullptr, 10, &reply), StatusIs(absl::StatusCode::kUnavailable, ""));
  EXPECT_TRUE(Released(update));
}

}  // namespace
}  // namespace biofed
