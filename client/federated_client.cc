#include "client/federated_client.h"

#include <condition_variable>
#include <mutex>
#include <thread>

#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "common/runtime.h"
#include "common/status_macros.h"
#include "wire/grpc_status.h"
#include "wire/update_sender.h"

namespace biofed {
namespace {

constexpr char kLog[] = "client";

bool Fatal(absl::StatusCode code) {
  return code == absl::StatusCode::kUnauthenticated || code == absl::StatusCode::kPermissionDenied;
}

// Worth retrying: the server is down, or it cancelled the call while
// shutting down (this client cancels nothing of its own accord).
bool Transient(absl::StatusCode code) {
  return code == absl::StatusCode::kUnavailable || code == absl::StatusCode::kCancelled;
}

// One Join call; the server registers the client again (after a restart it
// knows nobody until they join).
absl::Status CallJoin(v1::Federation::Stub& stub, const std::string& token, v1::JoinReply* join) {
  grpc::ClientContext context;
  PrepareContext(&context, token, absl::Seconds(30));
  return FromGrpcStatus(stub.Join(&context, v1::JoinRequest(), join));
}

// Heartbeats keep the client sampled while it trains for longer than the
// server's timeout: one every `interval` from a thread, until destroyed.
class HeartbeatThread {
 public:
  HeartbeatThread(v1::Federation::Stub& stub, const std::string& token, const std::string& client_id,
                  std::chrono::milliseconds interval)
      : thread_([this, &stub, token, client_id, interval] {
          std::unique_lock<std::mutex> lock(mutex_);
          while (!stopped_signal_.wait_for(lock, interval, [&] { return stopped_; })) {
            lock.unlock();
            grpc::ClientContext context;
            PrepareContext(&context, token, absl::Seconds(5));
            v1::HeartbeatRequest request;
            request.set_client_id(client_id);
            v1::HeartbeatReply reply;
            if (stub.Heartbeat(&context, request, &reply).error_code() == grpc::StatusCode::NOT_FOUND) {
              v1::JoinReply join;  // the server restarted and forgot this client
              CallJoin(stub, token, &join).IgnoreError();
            }
            lock.lock();
          }
        }) {}
  ~HeartbeatThread() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopped_ = true;
    }
    stopped_signal_.notify_all();
    thread_.join();
  }

 private:
  std::mutex mutex_;
  std::condition_variable stopped_signal_;
  bool stopped_ = false;
  std::thread thread_;  // last: starts after the members it uses
};

// `status`, its message prefixed with the call that failed.
absl::Status NamedFailure(const char* what, const absl::Status& status) {
  if (status.ok()) return status;
  return absl::Status(status.code(), absl::StrCat(what, ": ", status.message()));
}

}  // namespace

absl::StatusOr<TensorTable> FetchModelTable(v1::Federation::Stub& stub, const std::string& token, int64_t version,
                                            const WireLimits& limits) {
  grpc::ClientContext context;
  PrepareContext(&context, token);
  v1::FetchModelRequest request;
  request.set_version(version);
  auto reader = stub.FetchModel(&context, request);
  v1::ModelChunk chunk;
  std::optional<TableAssembler> assembler;
  absl::Status failure;
  while (reader->Read(&chunk)) {
    if (!failure.ok()) continue;
    if (chunk.has_header()) {
      if (assembler) {
        failure = absl::DataLossError("model stream with two headers");
        continue;
      }
      auto started = TableAssembler::Start(chunk.header().tensors(), nullptr, limits);
      if (!started.ok()) {
        failure = started.status();
        continue;
      }
      assembler.emplace(std::move(*started));
    } else if (!assembler) {
      failure = absl::DataLossError("model data before its header");
    } else {
      failure = assembler->Add(chunk.data());
    }
  }
  BIOFED_RETURN_IF_ERROR(FromGrpcStatus(reader->Finish()));
  BIOFED_RETURN_IF_ERROR(failure);
  if (!assembler) return absl::DataLossError("empty model stream");
  return assembler->Finish(/*require_finite=*/false);
}

absl::Status SubmitUpdateTable(grpc::GenericStub& stub, const std::string& token, v1::UpdateHeader header,
                               std::shared_ptr<const TensorTable> update, const v1::AuditManifest* manifest,
                               size_t chunk_bytes) {
  grpc::ClientContext context;
  PrepareContext(&context, token);
  v1::SubmitReply reply;
  return SendUpdate(stub, &context, std::move(header), std::move(update), manifest, chunk_bytes, &reply);
}

FederatedClient::FederatedClient(FederatedClientOptions options, LocalData data)
    : options_(std::move(options)), data_(std::move(data)) {}

template <typename Call>
absl::Status FederatedClient::Retry(const char* what, Call call) {
  absl::Duration backoff = absl::Milliseconds(100);
  absl::Time first_failure = absl::InfiniteFuture();
  while (true) {
    absl::Status status = call();
    if (!Transient(status.code())) return NamedFailure(what, status);
    const absl::Time now = absl::Now();
    if (first_failure == absl::InfiniteFuture()) {
      first_failure = now;
      LogWarning(kLog, absl::StrCat(client_id_.empty() ? "client" : client_id_, ": ", what,
                                    ": server unavailable, retrying (", status.message(), ")"));
    }
    if (Stopping()) {
      return absl::CancelledError(absl::StrCat("client stopped while the server was unavailable (", what, ")"));
    }
    if (now - first_failure > options_.max_unavailable) return NamedFailure(what, status);
    absl::SleepFor(backoff);
    backoff = std::min(backoff * 2, options_.max_backoff);
  }
}

absl::Status FederatedClient::Run() {
  BIOFED_ASSIGN_OR_RETURN(auto channel, MakeFederationChannel(options_.address, options_.security));
  auto stub = v1::Federation::NewStub(channel);
  grpc::GenericStub updates(channel);  // SubmitUpdate sends raw messages
  BIOFED_ASSIGN_OR_RETURN(const v1::JoinReply join, Join(*stub));
  HeartbeatThread heartbeat(*stub, options_.token, client_id_,
                            std::chrono::milliseconds(std::max<int64_t>(join.heartbeat_interval_ms(), 100)));
  return ServeTasks(*stub, updates);
}

absl::StatusOr<v1::JoinReply> FederatedClient::Join(v1::Federation::Stub& stub) {
  v1::JoinReply join;
  BIOFED_RETURN_IF_ERROR(Retry("join", [&] { return CallJoin(stub, options_.token, &join); }));
  client_id_ = join.client_id();
  dataset_ = join.dataset();
  send_manifest_ = join.collect_audit_manifests();
  BIOFED_ASSIGN_OR_RETURN(ModelSpec spec, ModelSpecFromJson(join.model_spec_json()));
  if (spec.imprint_bins > 0) {
    LogWarning(kLog, absl::StrCat(client_id_, ": the server's model has an imprint block of ", spec.imprint_bins,
                                  " bins: a server that sends one can read training inputs off this client's updates"));
  }
  BIOFED_ASSIGN_OR_RETURN(torch::Device device, ResolveDevice(options_.device));
  trainer_ = std::make_unique<LocalTrainer>(spec, options_.biomod, options_.seed, device, options_.dp);
  LogInfo(kLog, absl::StrCat(client_id_, ": joined run '", join.run_id(), "' with ", data_.indices.size(), " samples"));
  return join;
}

absl::Status FederatedClient::ServeTasks(v1::Federation::Stub& stub, grpc::GenericStub& updates) {
  while (true) {
    if (Stopping()) return absl::CancelledError("client stopped");
    v1::Task task;
    absl::Status pulled = Retry("pull task", [&] {
      grpc::ClientContext context;
      PrepareContext(&context, options_.token, absl::Seconds(30));
      v1::PullTaskRequest request;
      request.set_client_id(client_id_);
      return FromGrpcStatus(stub.PullTask(&context, request, &task));
    });
    if (pulled.code() == absl::StatusCode::kNotFound) {
      LogInfo(kLog, absl::StrCat(client_id_, ": the server does not know this client (restarted); joining again"));
      v1::JoinReply join;
      BIOFED_RETURN_IF_ERROR(Retry("join", [&] { return CallJoin(stub, options_.token, &join); }));
      continue;
    }
    if (!pulled.ok()) {
      if (!Stopping()) LogWarning(kLog, absl::StrCat(client_id_, ": giving up: ", pulled.ToString()));
      return pulled;
    }
    if (task.has_finish()) {
      LogInfo(kLog, absl::StrCat(client_id_, ": federation finished after ", task.finish().rounds_completed(), " rounds"));
      return absl::OkStatus();
    }
    if (task.has_wait()) {
      absl::SleepFor(absl::Milliseconds(std::max<int64_t>(task.wait().retry_after_ms(), 10)));
      continue;
    }
    const absl::Status round = RunRound(stub, updates, task.train());
    if (!round.ok()) {
      if (Stopping()) continue;  // reported at the top of the loop
      if (Fatal(round.code()) || Transient(round.code())) {  // transient: Retry gave up
        LogWarning(kLog, absl::StrCat(client_id_, ": giving up: round ", task.train().round(), ": ", round.ToString()));
        return round;
      }
      // The round moved on (deadline, restart) or the update was refused: log and pull again.
      LogWarning(kLog, absl::StrCat(client_id_, ": round ", task.train().round(), ": ", round.ToString()));
    }
  }
}

absl::Status FederatedClient::RunRound(v1::Federation::Stub& stub, grpc::GenericStub& updates,
                                       const v1::TrainTask& task) {
  if (cached_version_ != task.model_version()) {
    BIOFED_RETURN_IF_ERROR(Retry("fetch model", [&]() -> absl::Status {
      auto model = FetchModelTable(stub, options_.token, task.model_version());
      if (!model.ok()) return model.status();
      cached_model_ = std::move(*model);
      return absl::OkStatus();
    }));
    cached_version_ = task.model_version();
  }
  LocalTask local;
  local.round = task.round();
  local.fedsgd = task.mode() == v1::MODE_FEDSGD;
  local.lr = task.lr();
  local.local_epochs = task.local_epochs();
  local.batch_size = task.batch_size();
  BIOFED_ASSIGN_OR_RETURN(LocalResult result, trainer_->Train(cached_model_, local, data_));
  if (options_.defend) BIOFED_RETURN_IF_ERROR(options_.defend(task.round(), result.update));
  if (Stopping()) return absl::CancelledError("client stopped before submitting");

  v1::UpdateHeader header;
  header.set_client_id(client_id_);
  header.set_round(task.round());
  header.set_model_version(task.model_version());
  header.set_num_examples(result.num_examples);
  (*header.mutable_metrics())["train_loss"] = result.train_loss;
  (*header.mutable_metrics())["train_accuracy"] = result.train_accuracy;
  header.set_shared_kind(v1::SHARED_PSEUDO_GRADIENT);
  header.set_lr(task.lr());
  header.set_local_steps(result.steps);
  header.set_batch_size(result.batch_size);
  header.set_batchnorm_train_mode(true);
  v1::AuditManifest manifest;
  if (send_manifest_) {
    manifest.set_dataset(dataset_);
    manifest.set_split("train");
    manifest.set_batch_size(result.batch_size);
    for (int64_t i : result.sample_indices) manifest.add_sample_indices(i);
    manifest.set_client_seed(options_.seed);
    manifest.set_biomod(options_.biomod_name);
    manifest.set_tau(options_.biomod.fuzzy_learning_rates ? options_.biomod.tau : 0.0);
  }
  // The transport reads the tensors in place; the shared table stays alive
  // for as long as it holds them.
  auto update = std::make_shared<TensorTable>(std::move(result.update));
  const absl::Status submitted = Retry("submit update", [&] {
    return SubmitUpdateTable(updates, options_.token, header, update, send_manifest_ ? &manifest : nullptr);
  });
  result.update = update.use_count() == 1 ? std::move(*update) : *update;
  BIOFED_RETURN_IF_ERROR(submitted);
  if (options_.on_submitted) options_.on_submitted(task.round(), result);
  return absl::OkStatus();
}

}  // namespace biofed
