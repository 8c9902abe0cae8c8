#include "server/federation_core.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <limits>
#include <random>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/log.h"
#include "common/status_macros.h"
#include "common/untrusted_text.h"

namespace biofed {
namespace {

constexpr char kLog[] = "server";
constexpr size_t kVersionsKept = 4;

uint64_t Mix(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

int64_t Millis(absl::Duration d) { return absl::ToInt64Milliseconds(d); }

// a + b for non-negative counts, held at the int64 maximum rather than
// overflowing.
int64_t SaturatingAdd(int64_t a, int64_t b) {
  int64_t sum = 0;
  return __builtin_add_overflow(a, b, &sum) ? std::numeric_limits<int64_t>::max() : sum;
}

// What the header claims about the update: INVALID_ARGUMENT for the first
// claim that cannot be true or that the federation does not take.
absl::Status CheckClaims(const v1::UpdateHeader& h, const FederationConfig& config) {
  if (h.num_examples() < 1) return absl::InvalidArgumentError("num_examples must be at least 1");
  if (h.num_examples() > config.max_examples_per_update) {
    return absl::InvalidArgumentError(absl::StrCat("num_examples ", h.num_examples(), " exceeds the limit of ",
                                                   config.max_examples_per_update, " per update"));
  }
  if (!(h.lr() > 0) || !std::isfinite(h.lr())) return absl::InvalidArgumentError("lr must be a positive number");
  if (h.shared_kind() != v1::SHARED_PSEUDO_GRADIENT) {
    return absl::InvalidArgumentError("this federation aggregates pseudo-gradients (shared_kind)");
  }
  for (const auto& [name, value] : h.metrics()) {
    if (!std::isfinite(value)) {
      return absl::InvalidArgumentError(absl::StrCat("metric '", EscapedForLog(name), "' is not a finite number"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<TrainingMode> ParseTrainingMode(const std::string& name) {
  if (name == "fedsgd") return TrainingMode::kFedSgd;
  if (name == "fedavg") return TrainingMode::kFedAvg;
  return absl::InvalidArgumentError(absl::StrCat("unknown training mode '", name, "' (fedsgd, fedavg)"));
}

absl::Status ValidateFederationConfig(const FederationConfig& c) {
  if (c.rounds < 1) return absl::InvalidArgumentError("rounds must be at least 1");
  if (!(c.fraction > 0 && c.fraction <= 1)) return absl::InvalidArgumentError("fraction must be in (0, 1]");
  if (c.min_clients < 1) return absl::InvalidArgumentError("min clients must be at least 1");
  if (c.min_available < 0) return absl::InvalidArgumentError("min available clients must be >= 0");
  if (!(c.lr > 0) || !std::isfinite(c.lr)) return absl::InvalidArgumentError("lr must be a positive number");
  if (!(c.server_lr > 0) || !std::isfinite(c.server_lr)) {
    return absl::InvalidArgumentError("server lr must be a positive number");
  }
  if (c.local_epochs < 1) return absl::InvalidArgumentError("local epochs must be at least 1");
  if (c.evaluate_every < 1) return absl::InvalidArgumentError("evaluate every must be at least 1 round");
  if (c.batch_size < 0) return absl::InvalidArgumentError("batch size must be >= 0 (0: whole partition)");
  if (c.round_deadline <= absl::ZeroDuration()) return absl::InvalidArgumentError("round deadline must be positive");
  if (c.client_timeout <= absl::ZeroDuration()) return absl::InvalidArgumentError("client timeout must be positive");
  if (c.poll_interval <= absl::ZeroDuration()) return absl::InvalidArgumentError("poll interval must be positive");
  if (c.max_examples_per_update < 1) return absl::InvalidArgumentError("max examples per update must be at least 1");
  if (!(c.max_update_norm >= 0) || !std::isfinite(c.max_update_norm)) {
    return absl::InvalidArgumentError("max update norm must be a number >= 0 (0: no bound)");
  }
  return absl::OkStatus();
}

FederationCore::FederationCore(const FederationConfig& config, ModelEvaluator evaluator)
    : config_(config),
      evaluator_(std::move(evaluator)),
      observations_(config.observation_log_limit, config.collect_audit_manifests) {}

absl::StatusOr<std::unique_ptr<FederationCore>> FederationCore::Create(const FederationConfig& config,
                                                                       TensorTable initial_model,
                                                                       ModelEvaluator evaluator) {
  BIOFED_RETURN_IF_ERROR(ValidateFederationConfig(config));
  std::unique_ptr<FederationCore> core(new FederationCore(config, std::move(evaluator)));
  TensorTable model = std::move(initial_model);
  if (!config.checkpoint_path.empty() && std::ifstream(config.checkpoint_path).good()) {
    BIOFED_ASSIGN_OR_RETURN(Checkpoint checkpoint, ReadCheckpoint(config.checkpoint_path));
    if (checkpoint.run_id != config.run_id || checkpoint.model_spec_json != config.model_spec_json) {
      return absl::FailedPreconditionError(absl::StrCat(
          config.checkpoint_path, " belongs to run '", checkpoint.run_id,
          "' with another model; use another --checkpoint or the same run id and model"));
    }
    if (UpdateSchema(checkpoint.model).size() != UpdateSchema(model).size()) {
      return absl::FailedPreconditionError(absl::StrCat(config.checkpoint_path, " does not hold this model"));
    }
    model = std::move(checkpoint.model);
    core->completed_ = checkpoint.completed_rounds;
    core->history_ = std::move(checkpoint.history);
    LogInfo(kLog, absl::StrCat("resumed from ", config.checkpoint_path, " after round ", core->completed_));
  }
  BIOFED_RETURN_IF_ERROR(WritePinnedEntries(config.malicious_entries, model));
  if (!config.malicious_entries.empty()) {
    LogWarning(kLog, absl::StrCat("MALICIOUS server: ", config.malicious_entries.size(),
                                  " entries of the model are the server's own in every round"));
  }
  core->update_schema_ = UpdateSchema(model);
  core->versions_[core->completed_] = std::make_shared<const TensorTable>(std::move(model));
  if (core->completed_ >= config.rounds) core->observations_.End();
  return core;
}

FederationCore::~FederationCore() { Stop(); }

void FederationCore::Start() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (driver_.joinable() || stopped_) return;
  driver_ = std::thread([this] { DriverLoop(); });
}

void FederationCore::Stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopped_ = true;
  }
  changed_.notify_all();
  observations_.End();
  if (driver_.joinable()) driver_.join();
}

void FederationCore::Touch(const std::string& client) {
  auto [it, inserted] = clients_.try_emplace(client);
  it->second.last_seen = absl::Now();
  if (inserted) LogInfo(kLog, absl::StrCat("client '", EscapedForLog(client), "' joined"));
}

absl::Status FederationCore::TouchJoined(const std::string& client) {
  auto it = clients_.find(client);
  if (it == clients_.end()) {
    return absl::NotFoundError(absl::StrCat("'", EscapedForLog(client), "' has not joined (since the server started)"));
  }
  it->second.last_seen = absl::Now();
  return absl::OkStatus();
}

void FederationCore::Join(const std::string& client) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    Touch(client);
  }
  changed_.notify_all();
}

absl::StatusOr<v1::Task> FederationCore::PullTask(const std::string& client) {
  v1::Task task;
  std::lock_guard<std::mutex> lock(mutex_);
  BIOFED_RETURN_IF_ERROR(TouchJoined(client));
  if (completed_ >= config_.rounds) {
    task.mutable_finish()->set_rounds_completed(completed_);
    return task;
  }
  if (open_ && !closing_ && !stopped_ &&
      std::find(open_->sampled.begin(), open_->sampled.end(), client) != open_->sampled.end() &&
      open_->received.count(client) == 0) {
    v1::TrainTask* train = task.mutable_train();
    train->set_round(open_->round);
    train->set_model_version(open_->round - 1);
    train->set_mode(config_.mode == TrainingMode::kFedSgd ? v1::MODE_FEDSGD : v1::MODE_FEDAVG);
    train->set_lr(config_.lr);
    train->set_local_epochs(config_.local_epochs);
    train->set_batch_size(config_.batch_size);
    return task;
  }
  v1::WaitTask* wait = task.mutable_wait();
  wait->set_retry_after_ms(Millis(config_.poll_interval));
  wait->set_reason(open_ ? absl::StrCat("round ", open_->round, " in progress") : "waiting for clients");
  return task;
}

absl::StatusOr<v1::HeartbeatReply> FederationCore::Heartbeat(const std::string& client) {
  std::lock_guard<std::mutex> lock(mutex_);
  BIOFED_RETURN_IF_ERROR(TouchJoined(client));
  v1::HeartbeatReply reply;
  reply.set_current_round(completed_ + 1);
  reply.set_finished(completed_ >= config_.rounds);
  return reply;
}

absl::StatusOr<std::shared_ptr<const TensorTable>> FederationCore::Model(int64_t version) const {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = versions_.find(version);
  if (it == versions_.end()) {
    return absl::NotFoundError(absl::StrCat("model version ", version, " is not available (current: ", completed_, ")"));
  }
  return it->second;
}

absl::Status FederationCore::CheckSubmissionLocked(const std::string& principal, const v1::UpdateHeader& h) const {
  const std::string& id = h.client_id();
  if (clients_.count(id) == 0) return absl::NotFoundError(absl::StrCat("unknown client '", EscapedForLog(id), "'"));
  if (id != principal) {
    return absl::PermissionDeniedError(
        absl::StrCat("the credential of '", principal, "' cannot submit for '", EscapedForLog(id), "'"));
  }
  if (completed_ >= config_.rounds) return absl::FailedPreconditionError("the federation has finished");
  const int64_t current = completed_ + 1;
  if (h.round() < current) {
    return absl::FailedPreconditionError(absl::StrCat("stale round ", h.round(), "; the current round is ", current));
  }
  if (h.round() > current) {
    return absl::FailedPreconditionError(absl::StrCat("future round ", h.round(), "; the current round is ", current));
  }
  if (!open_ || closing_) return absl::FailedPreconditionError(absl::StrCat("round ", current, " is not open"));
  if (h.model_version() != current - 1) {
    return absl::FailedPreconditionError(absl::StrCat("update computed from model version ", h.model_version(),
                                                      "; round ", current, " trains version ", current - 1));
  }
  if (std::find(open_->sampled.begin(), open_->sampled.end(), id) == open_->sampled.end()) {
    return absl::FailedPreconditionError(absl::StrCat("'", id, "' was not sampled for round ", current));
  }
  if (open_->received.count(id)) {
    return absl::AlreadyExistsError(absl::StrCat("'", id, "' already submitted an update for round ", current));
  }
  return CheckClaims(h, config_);
}

absl::Status FederationCore::CheckSubmission(const std::string& principal, const v1::UpdateHeader& header) const {
  std::lock_guard<std::mutex> lock(mutex_);
  return CheckSubmissionLocked(principal, header);
}

absl::Status FederationCore::AcceptUpdate(const std::string& principal, const v1::UpdateHeader& header,
                                          TensorTable tensors, std::optional<v1::AuditManifest> audit) {
  // Outside the lock: a pass over the whole update.
  BIOFED_ASSIGN_OR_RETURN(const BoundedNorm bounded,
                          BoundUpdateNorm(tensors, config_.max_update_norm, config_.update_norm_policy));
  if (bounded.clipped) {
    LogWarning(kLog, absl::StrCat("round ", header.round(), ": clipped the update of '", principal, "' from L2 norm ",
                                  bounded.norm, " to ", config_.max_update_norm));
  }
  std::shared_ptr<RunningMean> mean;
  std::shared_ptr<ClientUpdate> update;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    BIOFED_RETURN_IF_ERROR(CheckSubmissionLocked(principal, header));
    update = std::make_shared<ClientUpdate>();
    update->client_id = header.client_id();
    update->num_examples = header.num_examples();
    update->tensors = std::move(tensors);
    auto found = header.metrics().find("train_loss");
    if (found != header.metrics().end()) open_->train_loss[update->client_id] = found->second;
    auto observation = std::make_shared<Observation>();
    observation->model_version = header.model_version();
    observation->model = versions_.at(header.model_version());
    observation->header = header;
    observation->update = std::shared_ptr<const TensorTable>(update, &update->tensors);
    observations_.Record(std::move(observation), std::move(audit));
    mean = open_->mean;
    open_->received[update->client_id] = Received{update->num_examples, mean ? nullptr : update};
    if (mean) ++open_->adding;  // the round does not close before the sum has it
    LogInfo(kLog, absl::StrCat("round ", header.round(), ": accepted the update of '", header.client_id(), "' (",
                               open_->received.size(), "/", open_->sampled.size(), ")"));
  }
  absl::Status added = mean ? AddToRunningMean(std::move(mean), std::move(update)) : absl::OkStatus();
  changed_.notify_all();
  return added;
}

absl::Status FederationCore::AddToRunningMean(std::shared_ptr<RunningMean> mean,
                                              std::shared_ptr<const ClientUpdate> update) {
  const std::string client = update->client_id;
  absl::Status added;
  {
    std::lock_guard<std::mutex> lock(mean->mutex);
    added = mean->mean.Add(std::move(update));
  }
  std::lock_guard<std::mutex> lock(mutex_);
  --open_->adding;  // the round stays open while adding > 0
  if (!added.ok()) {
    // Validated against the schema and the claims, so this is a bug:
    // refuse the update rather than count it.
    open_->received.erase(client);
    open_->train_loss.erase(client);
    LogError(kLog, absl::StrCat("round ", open_->round, ": the update of '", client,
                                "' could not be summed: ", added.ToString()));
  }
  return added;
}

void FederationCore::CountRejection() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (open_) ++open_->rejected;
}

void FederationCore::DriverLoop() {
  std::unique_lock<std::mutex> lock(mutex_);
  while (!stopped_) {
    if (completed_ < config_.rounds) {
      if (!open_) {
        MaybeOpenRound(lock);
      } else if (open_->adding == 0 &&
                 (open_->received.size() == open_->sampled.size() || absl::Now() >= open_->deadline)) {
        if (open_->received.size() < open_->sampled.size() && KeepWaitingPastDeadline()) continue;
        CloseRound(lock);
        continue;
      }
    }
    changed_.wait_for(lock, std::chrono::milliseconds(20));
  }
}

void FederationCore::MaybeOpenRound(std::unique_lock<std::mutex>&) {
  const absl::Time now = absl::Now();
  std::vector<std::string> alive;
  for (const auto& [name, state] : clients_) {
    if (now - state.last_seen <= config_.client_timeout) alive.push_back(name);
  }
  if (static_cast<int64_t>(alive.size()) < std::max(config_.min_clients, config_.min_available)) return;
  const int64_t round = completed_ + 1;
  int64_t k = static_cast<int64_t>(std::ceil(config_.fraction * static_cast<double>(alive.size())));
  k = std::min<int64_t>(std::max(k, config_.min_clients), static_cast<int64_t>(alive.size()));
  std::mt19937_64 rng(Mix(config_.seed ^ Mix(static_cast<uint64_t>(round) * 1000003u + next_attempt_)));
  std::shuffle(alive.begin(), alive.end(), rng);
  alive.resize(k);
  std::sort(alive.begin(), alive.end());
  OpenRound r;
  r.round = round;
  r.attempt = next_attempt_;
  r.sampled = std::move(alive);
  r.opened = now;
  r.deadline = now + config_.round_deadline;
  if (config_.aggregator.kind == Aggregator::Kind::kMean) {
    r.mean = std::make_shared<RunningMean>(versions_.at(completed_));
  }
  LogInfo(kLog, absl::StrCat("round ", round, " open", r.attempt ? absl::StrCat(" (attempt ", r.attempt + 1, ")") : "",
                             ": sampled ", absl::StrJoin(r.sampled, ", ")));
  open_ = std::move(r);
  changed_.notify_all();
}

// At the deadline of a round short of its quorum (fewer than min_clients
// updates) the round keeps what it received: a slow machine must not cost
// live clients their work. Sampled clients that are gone (silent beyond the
// client timeout) are replaced by live clients not yet sampled, and the
// round waits another deadline for the others. From the second deadline on,
// sampled clients that are alive but still have not sent are replaced too
// where there are live clients to replace them (a client that heartbeats but
// never submits cannot hold the round); with none, the round keeps waiting.
// What it waits for is logged when that changes. False when the round has
// its quorum (it closes).
bool FederationCore::KeepWaitingPastDeadline() {
  OpenRound& round = *open_;
  const int64_t needed = std::min<int64_t>(config_.min_clients, static_cast<int64_t>(round.sampled.size()));
  const int64_t received = static_cast<int64_t>(round.received.size());
  if (received >= needed) return false;
  const absl::Time now = absl::Now();
  auto alive = [&](const std::string& name) {
    auto client = clients_.find(name);
    return client != clients_.end() && now - client->second.last_seen <= config_.client_timeout;
  };
  constexpr int kDeadlinesForLiveClients = 2;
  const bool replace_live = ++round.extensions >= kDeadlinesForLiveClients;
  std::vector<std::string> waiting, gone, candidates;
  for (const std::string& name : round.sampled) {
    if (round.received.count(name) == 0) (alive(name) && !replace_live ? waiting : gone).push_back(name);
  }
  for (const auto& [name, state] : clients_) {
    if (alive(name) && std::find(round.sampled.begin(), round.sampled.end(), name) == round.sampled.end()) {
      candidates.push_back(name);
    }
  }
  std::mt19937_64 rng(Mix(config_.seed ^ Mix(static_cast<uint64_t>(round.round) * 1000003u + round.extensions)));
  std::shuffle(candidates.begin(), candidates.end(), rng);
  std::vector<std::string> replaced;
  for (size_t i = 0; i < gone.size(); ++i) {
    if (i >= candidates.size()) {
      if (alive(gone[i])) waiting.push_back(gone[i]);  // alive, and nobody to replace it
      continue;
    }
    round.sampled.erase(std::find(round.sampled.begin(), round.sampled.end(), gone[i]));
    round.sampled.push_back(candidates[i]);
    round.replaced.push_back(gone[i]);
    replaced.push_back(absl::StrCat(gone[i], " by ", candidates[i]));
    waiting.push_back(candidates[i]);
  }
  std::sort(round.sampled.begin(), round.sampled.end());
  round.deadline = now + config_.round_deadline;
  const std::string what = absl::StrCat(
      "round ", round.round, ": deadline passed with ", received, " of ", needed, " required updates; ",
      waiting.empty() ? "no sampled client is alive, waiting for one to come back"
                      : absl::StrCat("waiting for ", absl::StrJoin(waiting, ", ")),
      replaced.empty() ? "" : absl::StrCat(" (replaced: ", absl::StrJoin(replaced, ", "), ")"));
  if (what != round.waiting_for) LogWarning(kLog, what);
  round.waiting_for = what;
  changed_.notify_all();
  return true;
}

RoundSummary FederationCore::SummarizeRound(const OpenRound& round) {
  RoundSummary summary;
  summary.round = round.round;
  summary.rejected_updates = round.rejected;
  double loss_sum = 0;
  for (const auto& [name, received] : round.received) {
    summary.participants.push_back(name);
    summary.examples = SaturatingAdd(summary.examples, received.num_examples);
    auto loss = round.train_loss.find(name);
    if (loss != round.train_loss.end()) loss_sum += loss->second * static_cast<double>(received.num_examples);
  }
  for (const std::string& name : round.sampled) {
    if (round.received.count(name) == 0) summary.dropped.push_back(name);
  }
  summary.dropped.insert(summary.dropped.end(), round.replaced.begin(), round.replaced.end());
  std::sort(summary.dropped.begin(), summary.dropped.end());
  summary.train_loss = summary.examples > 0 ? loss_sum / static_cast<double>(summary.examples) : 0.0;
  return summary;
}

absl::StatusOr<TensorTable> FederationCore::AggregateRound(const OpenRound& round, const TensorTable& base) const {
  const double step = config_.server_lr * config_.lr;
  if (round.mean) return round.mean->mean.Apply(step);  // no Add is running: adding == 0
  std::vector<const ClientUpdate*> updates;
  for (const auto& [name, received] : round.received) updates.push_back(received.update.get());
  return AggregateWith(config_.aggregator, base, updates, step);
}

void FederationCore::EvaluateAndCheckpoint(const TensorTable& model, absl::Time opened, RoundSummary& summary) {
  if (evaluator_ && (summary.round % config_.evaluate_every == 0 || summary.round == config_.rounds)) {
    absl::StatusOr<EvaluationResult> eval = evaluator_(model);
    if (eval.ok()) {
      summary.test_accuracy = eval->accuracy;
      summary.test_loss = eval->loss;
    } else {
      LogError(kLog, absl::StrCat("round ", summary.round, ": evaluation failed: ", eval.status().ToString()));
    }
  }
  summary.seconds = absl::ToDoubleSeconds(absl::Now() - opened);
  if (config_.checkpoint_path.empty()) return;
  Checkpoint checkpoint;
  checkpoint.run_id = config_.run_id;
  checkpoint.model_spec_json = config_.model_spec_json;
  checkpoint.completed_rounds = summary.round;
  checkpoint.model = model;
  checkpoint.history = history_;  // only the driver thread changes history_
  checkpoint.history.push_back(summary);
  const absl::Status written = WriteCheckpoint(config_.checkpoint_path, checkpoint);
  if (!written.ok()) LogError(kLog, absl::StrCat("round ", summary.round, ": checkpoint not written: ", written.ToString()));
}

void FederationCore::CloseRound(std::unique_lock<std::mutex>& lock) {
  OpenRound round = std::move(*open_);
  closing_ = true;
  const std::shared_ptr<const TensorTable> base = versions_.at(completed_);
  lock.unlock();

  RoundSummary summary = SummarizeRound(round);
  absl::StatusOr<TensorTable> next = AggregateRound(round, *base);
  if (next.ok()) {
    if (absl::Status pinned = WritePinnedEntries(config_.malicious_entries, *next); !pinned.ok()) next = pinned;
  }
  if (!next.ok()) {
    // Every update was validated against the schema, so this is a bug; keep
    // the model and redo the round rather than publish a wrong one.
    LogError(kLog, absl::StrCat("round ", round.round, ": aggregation failed: ", next.status().ToString()));
    lock.lock();
    open_.reset();
    closing_ = false;
    ++next_attempt_;
    return;
  }
  EvaluateAndCheckpoint(*next, round.opened, summary);
  LogInfo(kLog, absl::StrCat("round ", round.round, " closed: ", summary.participants.size(), " updates, ",
                             summary.dropped.size(), " dropped, test accuracy ", summary.test_accuracy));

  lock.lock();
  completed_ = round.round;
  versions_[completed_] = std::make_shared<const TensorTable>(std::move(*next));
  while (versions_.size() > kVersionsKept) versions_.erase(versions_.begin());
  history_.push_back(summary);
  open_.reset();
  closing_ = false;
  next_attempt_ = 0;
  auto listener = listener_;
  changed_.notify_all();
  if (completed_ >= config_.rounds) observations_.End();
  if (listener) {
    lock.unlock();
    listener(summary);
    lock.lock();
  }
}

size_t FederationCore::round_bytes_held() const {
  std::shared_ptr<RunningMean> mean;
  size_t bytes = 0;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!open_) return 0;
    mean = open_->mean;
    for (const auto& [name, received] : open_->received) {
      if (!received.update) continue;
      for (const HostTensor& t : received.update->tensors) bytes += t.bytes.size();
    }
  }
  if (mean) {
    std::lock_guard<std::mutex> lock(mean->mutex);
    bytes += mean->mean.held_bytes();
  }
  return bytes;
}

int64_t FederationCore::completed_rounds() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return completed_;
}

bool FederationCore::finished() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return completed_ >= config_.rounds;
}

std::vector<RoundSummary> FederationCore::history() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return history_;
}

std::shared_ptr<const TensorTable> FederationCore::current_model() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return versions_.at(completed_);
}

bool FederationCore::WaitUntilFinished(absl::Duration timeout) const {
  std::unique_lock<std::mutex> lock(mutex_);
  return changed_.wait_for(lock, absl::ToChronoMilliseconds(timeout),
                           [this] { return completed_ >= config_.rounds || stopped_; }) &&
         completed_ >= config_.rounds;
}

void FederationCore::SetRoundListener(std::function<void(const RoundSummary&)> listener) {
  std::lock_guard<std::mutex> lock(mutex_);
  listener_ = std::move(listener);
}

}  // namespace biofed
