#include "server/federation_service.h"

#include <algorithm>
#include <limits>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "common/status_macros.h"
#include "common/untrusted_text.h"
#include "server/update_reactor.h"

namespace biofed {
namespace {

constexpr char kLog[] = "server";
constexpr char kBearer[] = "Bearer ";

bool Contains(const google::protobuf::RepeatedField<int64_t>& list, int64_t value) {
  return list.empty() || std::find(list.begin(), list.end(), value) != list.end();
}

bool Contains(const google::protobuf::RepeatedPtrField<std::string>& list, const std::string& value) {
  return list.empty() || std::find(list.begin(), list.end(), value) != list.end();
}

}  // namespace

FederationService::FederationService(FederationCore* core, CredentialStore credentials, size_t chunk_bytes)
    : core_(core),
      credentials_(std::move(credentials)),
      chunk_bytes_(chunk_bytes),
      stale_updates_([this] { EndStaleUpdates(); }) {}

FederationService::~FederationService() {
  {
    std::lock_guard<std::mutex> lock(stop_mutex_);
    stopping_ = true;
  }
  stop_changed_.notify_all();
  stale_updates_.join();
}

void FederationService::EndStaleUpdates() {
  std::unique_lock<std::mutex> lock(stop_mutex_);
  while (!stop_changed_.wait_for(lock, std::chrono::milliseconds(100), [this] { return stopping_; })) {
    const int64_t current = core_->finished() ? std::numeric_limits<int64_t>::max() : core_->completed_rounds() + 1;
    lock.unlock();
    arriving_.EndThoseBefore(current);
    lock.lock();
  }
}

absl::StatusOr<const Principal*> FederationService::Authorize(const grpc::ServerContextBase* context, Role role) const {
  const auto& metadata = context->client_metadata();
  auto it = metadata.find("authorization");
  if (it == metadata.end()) return absl::UnauthenticatedError("missing authorization metadata (Bearer token)");
  const std::string value(it->second.data(), it->second.size());
  if (!absl::StartsWith(value, kBearer)) return absl::UnauthenticatedError("authorization is not a Bearer token");
  const Principal* principal = credentials_.Find(value.substr(sizeof(kBearer) - 1));
  if (principal == nullptr) return absl::UnauthenticatedError("unknown credential");
  if (!principal->Has(role)) {
    return absl::PermissionDeniedError(absl::StrCat("'", principal->name, "' lacks the ", RoleName(role), " role"));
  }
  return principal;
}

grpc::Status FederationService::Join(grpc::ServerContext* context, const v1::JoinRequest*, v1::JoinReply* reply) {
  // Any role may join: clients to train, auditors and scorers to read the model spec.
  const Principal* principal = nullptr;
  for (Role role : {Role::kClient, Role::kAuditor, Role::kScorer}) {
    auto p = Authorize(context, role);
    if (p.ok()) {
      principal = *p;
      break;
    }
    if (p.status().code() == absl::StatusCode::kUnauthenticated) return ToGrpcStatus(p.status());
  }
  if (principal == nullptr) return grpc::Status(grpc::StatusCode::PERMISSION_DENIED, "no role");
  if (principal->Has(Role::kClient)) core_->Join(principal->name);
  const FederationConfig& config = core_->config();
  reply->set_client_id(principal->name);
  reply->set_run_id(config.run_id);
  reply->set_model_spec_json(config.model_spec_json);
  reply->set_dataset(config.dataset);
  for (Role role : principal->roles) reply->add_roles(RoleName(role));
  reply->set_heartbeat_interval_ms(absl::ToInt64Milliseconds(config.client_timeout / 3));
  reply->set_collect_audit_manifests(config.collect_audit_manifests);
  return grpc::Status::OK;
}

grpc::Status FederationService::PullTask(grpc::ServerContext* context, const v1::PullTaskRequest* request,
                                         v1::Task* task) {
  auto principal = Authorize(context, Role::kClient);
  if (!principal.ok()) return ToGrpcStatus(principal.status());
  if (request->client_id() != (*principal)->name) {
    return grpc::Status(grpc::StatusCode::PERMISSION_DENIED,
                        absl::StrCat("the credential of '", (*principal)->name, "' cannot act for '",
                                     EscapedForLog(request->client_id()), "'"));
  }
  absl::StatusOr<v1::Task> next = core_->PullTask((*principal)->name);
  if (!next.ok()) return ToGrpcStatus(next.status());
  *task = std::move(*next);
  return grpc::Status::OK;
}

grpc::Status FederationService::Heartbeat(grpc::ServerContext* context, const v1::HeartbeatRequest* request,
                                          v1::HeartbeatReply* reply) {
  auto principal = Authorize(context, Role::kClient);
  if (!principal.ok()) return ToGrpcStatus(principal.status());
  if (request->client_id() != (*principal)->name) {
    return grpc::Status(grpc::StatusCode::PERMISSION_DENIED, "client id does not match the credential");
  }
  absl::StatusOr<v1::HeartbeatReply> beat = core_->Heartbeat((*principal)->name);
  if (!beat.ok()) return ToGrpcStatus(beat.status());
  *reply = std::move(*beat);
  return grpc::Status::OK;
}

grpc::Status FederationService::FetchModel(grpc::ServerContext* context, const v1::FetchModelRequest* request,
                                           grpc::ServerWriter<v1::ModelChunk>* writer) {
  auto principal = Authorize(context, Role::kClient);
  if (!principal.ok()) principal = Authorize(context, Role::kAuditor);
  if (!principal.ok()) return ToGrpcStatus(principal.status());
  auto model = core_->Model(request->version());
  if (!model.ok()) return ToGrpcStatus(model.status());
  v1::ModelChunk chunk;
  chunk.mutable_header()->set_version(request->version());
  DescribeTable(**model, chunk.mutable_header()->mutable_tensors());
  if (!writer->Write(chunk)) return grpc::Status(grpc::StatusCode::CANCELLED, "client went away");
  v1::ModelChunk data;
  const bool complete = ForEachChunk(**model, chunk_bytes_, [&](const TensorChunk& part) {
    FillTensorData(part, data.mutable_data());
    return writer->Write(data);
  });
  return complete ? grpc::Status::OK : grpc::Status(grpc::StatusCode::CANCELLED, "client went away");
}

grpc::ServerReadReactor<grpc::ByteBuffer>* FederationService::SubmitUpdate(grpc::CallbackServerContext* context,
                                                                           grpc::ByteBuffer* reply) {
  auto principal = Authorize(context, Role::kClient);
  if (!principal.ok()) {
    LogWarning(kLog, absl::StrCat("rejected an update from ", context->peer(), ": ", principal.status().ToString()));
    return UpdateReactor::Refuse(ToGrpcStatus(principal.status()));
  }
  return new UpdateReactor(core_, &arriving_, (*principal)->name, reply);
}

grpc::Status FederationService::Observe(grpc::ServerContext* context, const v1::ObserveRequest* request,
                                        grpc::ServerWriter<v1::ObservationChunk>* writer) {
  auto principal = Authorize(context, Role::kAuditor);
  if (!principal.ok()) return ToGrpcStatus(principal.status());
  LogInfo(kLog, absl::StrCat("auditor '", (*principal)->name, "' is observing"));
  size_t next = 0;
  while (!context->IsCancelled()) {
    std::shared_ptr<const Observation> observation;
    const ObservationWait wait = core_->WaitObservation(&next, absl::Milliseconds(200), &observation);
    if (wait == ObservationWait::kEnded) return grpc::Status::OK;
    if (wait == ObservationWait::kTimedOut) continue;
    ++next;
    const v1::UpdateHeader& h = observation->header;
    if (!Contains(request->rounds(), h.round()) || !Contains(request->client_ids(), h.client_id())) continue;
    v1::ObservationChunk chunk;
    v1::ObservationHeader* header = chunk.mutable_header();
    header->set_model_version(observation->model_version);
    DescribeTable(*observation->model, header->mutable_model_tensors());
    *header->mutable_update() = h;
    if (!writer->Write(chunk)) return grpc::Status(grpc::StatusCode::CANCELLED, "auditor went away");
    uint64_t total = 0;
    auto send = [&](bool model_part) {
      return [&, model_part](const TensorChunk& part) {
        v1::ObservationChunk c;
        FillTensorData(part, model_part ? c.mutable_model_data() : c.mutable_update_data());
        total += part.bytes.size();
        return writer->Write(c);
      };
    };
    if (!ForEachChunk(*observation->model, chunk_bytes_, send(true)) ||
        !ForEachChunk(*observation->update, chunk_bytes_, send(false))) {
      return grpc::Status(grpc::StatusCode::CANCELLED, "auditor went away");
    }
    v1::ObservationChunk end;
    end.mutable_trailer()->set_total_bytes(total);
    if (!writer->Write(end)) return grpc::Status(grpc::StatusCode::CANCELLED, "auditor went away");
  }
  return grpc::Status(grpc::StatusCode::CANCELLED, "observation cancelled");
}

grpc::Status FederationService::FetchAuditManifest(grpc::ServerContext* context,
                                                   const v1::AuditManifestRequest* request,
                                                   v1::AuditManifest* reply) {
  auto principal = Authorize(context, Role::kScorer);
  if (!principal.ok()) return ToGrpcStatus(principal.status());
  auto manifest = core_->AuditManifest(request->round(), request->client_id());
  if (!manifest.ok()) return ToGrpcStatus(manifest.status());
  *reply = std::move(*manifest);
  return grpc::Status::OK;
}

}  // namespace biofed
