// Test helpers for the federation: a server on 127.0.0.1:0 around a
// FederationCore, raw calls with a chosen token, and an update sender that
// can misbehave (no trailer, short data, wrong checksum). Torch-free.
#ifndef BIOFED_TESTS_TESTING_FEDERATION_HARNESS_H_
#define BIOFED_TESTS_TESTING_FEDERATION_HARNESS_H_

#include <cstring>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include <grpcpp/create_channel.h>
#include <gtest/gtest.h>

#include "absl/time/clock.h"
#include "biofed/v1/federation.grpc.pb.h"
#include "server/federation_server.h"
#include "wire/crc32c.h"
#include "wire/grpc_status.h"

namespace biofed::testing {

struct RunningFederation {
  std::unique_ptr<FederationCore> core;
  std::unique_ptr<FederationServer> server;
  std::string address() const { return "127.0.0.1:" + std::to_string(server->port()); }
  void Stop() {
    if (server) server->Shutdown(absl::ZeroDuration());
    if (core) core->Stop();
    server.reset();
    core.reset();
  }
  ~RunningFederation() { Stop(); }
};

inline std::unique_ptr<RunningFederation> StartFederation(const FederationConfig& config, TensorTable model,
                                                          ModelEvaluator evaluator, CredentialStore credentials,
                                                          const ServerSecurity& security = {true, "", "", ""},
                                                          const std::string& address = "127.0.0.1:0",
                                                          std::function<void(const RoundSummary&)> listener = nullptr) {
  auto f = std::make_unique<RunningFederation>();
  auto core = FederationCore::Create(config, std::move(model), std::move(evaluator));
  EXPECT_TRUE(core.ok()) << core.status();
  if (!core.ok()) return nullptr;
  f->core = std::move(*core);
  if (listener) f->core->SetRoundListener(std::move(listener));
  f->core->Start();
  // A server started again on the port of one just stopped may find the old
  // listening socket still open for a moment (gRPC closes it asynchronously).
  const absl::Time give_up = absl::Now() + absl::Seconds(10);
  auto server = FederationServer::Start(address, security, f->core.get(), credentials);
  while (absl::IsUnavailable(server.status()) && absl::Now() < give_up) {
    absl::SleepFor(absl::Milliseconds(50));
    server = FederationServer::Start(address, security, f->core.get(), credentials);
  }
  EXPECT_TRUE(server.ok()) << server.status();
  if (!server.ok()) return nullptr;
  f->server = std::move(*server);
  return f;
}

inline std::unique_ptr<v1::Federation::Stub> InsecureStub(const std::string& address) {
  return v1::Federation::NewStub(grpc::CreateChannel(address, grpc::InsecureChannelCredentials()));
}

inline void Authorize(grpc::ClientContext* context, const std::string& token) {
  context->AddMetadata("authorization", "Bearer " + token);
  context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
}

inline absl::StatusOr<v1::JoinReply> JoinAs(v1::Federation::Stub& stub, const std::string& token) {
  grpc::ClientContext context;
  Authorize(&context, token);
  v1::JoinReply reply;
  const grpc::Status s = stub.Join(&context, v1::JoinRequest(), &reply);
  if (!s.ok()) return FromGrpcStatus(s);
  return reply;
}

inline absl::StatusOr<v1::Task> PullAs(v1::Federation::Stub& stub, const std::string& token, const std::string& id) {
  grpc::ClientContext context;
  Authorize(&context, token);
  v1::PullTaskRequest request;
  request.set_client_id(id);
  v1::Task task;
  const grpc::Status s = stub.PullTask(&context, request, &task);
  if (!s.ok()) return FromGrpcStatus(s);
  return task;
}

// Pulls until a train task arrives (or `timeout`).
inline std::optional<v1::TrainTask> AwaitTrainTask(v1::Federation::Stub& stub, const std::string& token,
                                                   const std::string& id, absl::Duration timeout = absl::Seconds(20)) {
  const absl::Time end = absl::Now() + timeout;
  while (absl::Now() < end) {
    auto task = PullAs(stub, token, id);
    if (task.ok() && task->has_train()) return task->train();
    absl::SleepFor(absl::Milliseconds(10));
  }
  return std::nullopt;
}

// An update stream, with ways to break it.
struct Submission {
  std::string token;
  v1::UpdateHeader header;  // tensor declarations are added from `tensors`
  TensorTable tensors;
  bool send_trailer = true;
  size_t withhold_bytes = 0;             // bytes of the last tensor never sent
  std::optional<uint32_t> crc_of_first;  // sent instead of the first tensor's true checksum
  std::optional<v1::AuditManifest> audit;
};

inline absl::Status Submit(v1::Federation::Stub& stub, Submission s) {
  grpc::ClientContext context;
  Authorize(&context, s.token);
  v1::SubmitReply reply;
  auto writer = stub.SubmitUpdate(&context, &reply);
  v1::UpdateChunk chunk;
  *chunk.mutable_header() = s.header;
  DescribeTable(s.tensors, chunk.mutable_header()->mutable_tensors());
  bool ok = writer->Write(chunk);
  uint64_t total = 0;
  for (size_t i = 0; ok && i < s.tensors.size(); ++i) {
    std::string bytes(s.tensors[i].bytes);
    const bool whole = i + 1 < s.tensors.size() || s.withhold_bytes == 0;
    if (!whole) bytes.resize(bytes.size() - std::min(s.withhold_bytes, bytes.size()));
    v1::UpdateChunk data;
    data.mutable_data()->set_tensor_index(static_cast<uint32_t>(i));
    data.mutable_data()->set_offset(0);
    data.mutable_data()->set_payload(bytes);
    // Only the chunk that ends a tensor carries its checksum.
    if (whole) {
      const uint32_t crc = Crc32c(bytes.data(), bytes.size());
      data.mutable_data()->set_tensor_crc32c(i == 0 && s.crc_of_first ? *s.crc_of_first : crc);
    }
    total += bytes.size();
    ok = writer->Write(data);
  }
  if (ok && s.audit) {
    v1::UpdateChunk audit;
    *audit.mutable_audit() = *s.audit;
    ok = writer->Write(audit);
  }
  if (ok && s.send_trailer) {
    v1::UpdateChunk trailer;
    trailer.mutable_trailer()->set_total_bytes(total);
    writer->Write(trailer);
  }
  writer->WritesDone();
  return FromGrpcStatus(writer->Finish());
}

inline HostTensor FloatTensor(const std::string& name, std::vector<int64_t> shape, float value,
                              TensorRole role = TensorRole::kParameter) {
  HostTensor t;
  t.name = name;
  t.dtype = DType::kFloat32;
  t.shape = std::move(shape);
  t.role = role;
  int64_t n = 1;
  for (int64_t d : t.shape) n *= d;
  t.bytes.resize(static_cast<size_t>(n) * 4);
  for (int64_t i = 0; i < n; ++i) t.mutable_floats()[i] = value + 0.01f * static_cast<float>(i);
  return t;
}

}  // namespace biofed::testing

#endif  // BIOFED_TESTS_TESTING_FEDERATION_HARNESS_H_
