#include "attack/observer_client.h"

#include <optional>

#include <torch/torch.h>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/log.h"
#include "common/status_macros.h"
#include "common/torch_status.h"
#include "wire/grpc_status.h"
#include "wire/torch_bridge.h"

namespace biofed {
namespace {

struct PendingObservation {
  v1::ObservationHeader header;
  std::optional<TableAssembler> model;
  std::optional<TableAssembler> update;
};

UpdateMeta MetaOf(const v1::UpdateHeader& h) {
  UpdateMeta meta;
  meta.kind = h.shared_kind() == v1::SHARED_GRADIENT ? SharedKind::kGradient : SharedKind::kPseudoGradient;
  meta.lr = h.lr();
  meta.local_steps = h.local_steps();
  meta.batch_size = h.batch_size();
  meta.num_examples = h.num_examples();
  meta.batchnorm_train_mode = h.batchnorm_train_mode();
  meta.round = h.round();
  meta.client_id = h.client_id();
  return meta;
}

absl::Status ObserveStream(const ObserverOptions& options, v1::Federation::Stub& stub,
                           const v1::ObserveRequest& request,
                           const std::function<bool(ObserverSession::Tables)>& on_observation) {
  grpc::ClientContext context;
  PrepareContext(&context, options.token);
  auto reader = stub.Observe(&context, request);
  v1::ObservationChunk chunk;
  std::optional<PendingObservation> pending;
  absl::Status failure;
  bool caller_stopped = false;
  auto finish = [&]() -> absl::Status {
    ObserverSession::Tables tables;
    tables.header = std::move(pending->header);
    BIOFED_ASSIGN_OR_RETURN(tables.model, pending->model->Finish(false));
    BIOFED_ASSIGN_OR_RETURN(tables.update, pending->update->Finish(false));
    pending.reset();
    caller_stopped = !on_observation(std::move(tables));
    return absl::OkStatus();
  };
  while (failure.ok() && !caller_stopped && reader->Read(&chunk)) {
    switch (chunk.part_case()) {
      case v1::ObservationChunk::kHeader: {
        pending.emplace();
        pending->header = chunk.header();
        auto model = TableAssembler::Start(pending->header.model_tensors(), nullptr, options.limits);
        auto update = TableAssembler::Start(pending->header.update().tensors(), nullptr, options.limits);
        if (!model.ok()) failure = model.status();
        else if (!update.ok()) failure = update.status();
        else {
          pending->model.emplace(std::move(*model));
          pending->update.emplace(std::move(*update));
        }
        break;
      }
      case v1::ObservationChunk::kModelData:
      case v1::ObservationChunk::kUpdateData:
        if (!pending) {
          failure = absl::DataLossError("observation data before its header");
        } else if (chunk.has_model_data()) {
          failure = pending->model->Add(chunk.model_data());
        } else {
          failure = pending->update->Add(chunk.update_data());
        }
        break;
      case v1::ObservationChunk::kTrailer:
        failure = pending ? finish() : absl::DataLossError("observation trailer before its header");
        break;
      default:
        failure = absl::DataLossError("empty observation chunk");
    }
  }
  if (!failure.ok() || caller_stopped) {
    context.TryCancel();
    while (reader->Read(&chunk)) {
    }
    reader->Finish();
    return failure;
  }
  return FromGrpcStatus(reader->Finish());
}

}  // namespace

absl::StatusOr<ObserverSession> ObserverSession::Open(const ObserverOptions& options) {
  BIOFED_ASSIGN_OR_RETURN(auto channel, MakeFederationChannel(options.address, options.security));
  return ObserverSession(options, v1::Federation::NewStub(channel));
}

absl::Status ObserverSession::Observe(const v1::ObserveRequest& request,
                                      const std::function<bool(UpdateRecord)>& on_record) const {
  v1::JoinReply join;
  {
    grpc::ClientContext context;
    PrepareContext(&context, options_.token, absl::Seconds(30));
    BIOFED_RETURN_IF_ERROR(FromGrpcStatus(stub_->Join(&context, v1::JoinRequest(), &join)));
  }
  BIOFED_ASSIGN_OR_RETURN(ModelSpec spec, ModelSpecFromJson(join.model_spec_json()));
  absl::Status converted;
  const absl::Status streamed = ObserveStream(options_, *stub_, request, [&](Tables tables) {
    auto record = CallTorch("converting an observation", [&] {
      return RecordOfUpdate(spec, tables.model, tables.update, MetaOf(tables.header.update()), options_.norm,
                            join.dataset());
    });
    if (!record.ok()) {
      converted = record.status();
      return false;
    }
    return on_record(std::move(*record));
  });
  return converted.ok() ? streamed : converted;
}

absl::Status ObserverSession::ObserveTables(const v1::ObserveRequest& request,
                                            const std::function<bool(Tables)>& on_observation) const {
  return ObserveStream(options_, *stub_, request, on_observation);
}

absl::StatusOr<v1::AuditManifest> ObserverSession::FetchAuditManifest(int64_t round,
                                                                      const std::string& client_id) const {
  grpc::ClientContext context;
  PrepareContext(&context, options_.token, absl::Seconds(30));
  v1::AuditManifestRequest request;
  request.set_round(round);
  request.set_client_id(client_id);
  v1::AuditManifest manifest;
  BIOFED_RETURN_IF_ERROR(FromGrpcStatus(stub_->FetchAuditManifest(&context, request, &manifest)));
  return manifest;
}

absl::StatusOr<AuditRecord> AuditFromManifest(const v1::AuditManifest& manifest, const DatasetSplits& data) {
  const Dataset& split = manifest.split() == "test" ? data.test : data.train;
  if (!manifest.dataset().empty() && manifest.dataset() != split.name) {
    return absl::InvalidArgumentError(absl::StrCat("the manifest names dataset '", manifest.dataset(),
                                                   "', the scorer holds '", split.name, "'"));
  }
  const std::vector<int64_t> indices(manifest.sample_indices().begin(), manifest.sample_indices().end());
  return AuditOfSamples(split, data.norm, indices, manifest.client_seed(), manifest.tau(), manifest.biomod());
}

absl::Status RunAuditor(const ObserverSession& session, const v1::ObserveRequest& request, const DatasetSplits& data,
                        absl::Duration max_unavailable, const std::function<absl::Status(CaptureFile)>& on_update) {
  absl::Status failure;
  absl::Time last_contact = absl::Now();
  auto on_record = [&](UpdateRecord record) {
    last_contact = absl::Now();
    CaptureFile observed;
    failure = [&]() -> absl::Status {
      BIOFED_ASSIGN_OR_RETURN(v1::AuditManifest manifest, session.FetchAuditManifest(record.round, record.client_id));
      BIOFED_ASSIGN_OR_RETURN(observed.audit, AuditFromManifest(manifest, data));
      observed.record = std::move(record);
      return on_update(std::move(observed));
    }();
    return failure.ok();
  };
  while (true) {
    const absl::Status observed = session.Observe(request, on_record);
    if (!failure.ok()) return failure;
    if (observed.ok() || observed.code() != absl::StatusCode::kUnavailable) return observed;
    if (absl::Now() - last_contact > max_unavailable) return observed;
    LogWarning("audit", "server unavailable, retrying");
    absl::SleepFor(absl::Seconds(1));
  }
}

}  // namespace biofed
