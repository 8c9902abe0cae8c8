// The federation's state machine, independent of gRPC and LibTorch: who has
// joined, which round is open and whom it sampled, which updates arrived,
// when a round closes (all sampled clients in, or the deadline passed with
// at least the minimum), aggregation, evaluation through a callback, the
// atomic checkpoint after every round, the observation log for auditors and
// the audit manifests for the scorer.
//
// Rounds are numbered from 1; model version v is the model after v
// completed rounds, and round r trains from version r - 1. A background
// thread drives rounds. Thread-safe: every public method may be called from
// any gRPC handler thread.
#ifndef BIOFED_SERVER_FEDERATION_CORE_H_
#define BIOFED_SERVER_FEDERATION_CORE_H_

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "biofed/v1/federation.pb.h"
#include "server/robust_aggregation.h"
#include "server/checkpoint.h"
#include "server/evaluation.h"
#include "server/observation_log.h"
#include "server/pinned_entries.h"
#include "server/update_norm.h"
#include "server/weighted_mean.h"
#include "wire/host_tensor.h"
#include "wire/tensor_stream.h"

namespace biofed {

enum class TrainingMode { kFedSgd, kFedAvg };

struct FederationConfig {
  std::string run_id = "biofed";
  std::string model_spec_json;  // handed to clients as is
  std::string dataset;
  int64_t rounds = 5;
  double fraction = 1.0;        // of the live clients sampled per round
  int64_t min_clients = 1;      // updates needed to close a round at its deadline
  int64_t min_available = 0;    // live clients needed to open a round; 0: min_clients
  TrainingMode mode = TrainingMode::kFedAvg;
  double lr = 0.05;             // the clients' SGD learning rate
  int64_t local_epochs = 1;     // FedAvg
  int64_t batch_size = 32;      // 0: the whole partition in one batch
  double server_lr = 1.0;       // step = server_lr * lr; 1 is plain FedAvg / FedSGD
  int64_t evaluate_every = 1;   // rounds between test evaluations (and always the last)
  absl::Duration round_deadline = absl::Seconds(60);
  absl::Duration client_timeout = absl::Seconds(30);  // silent this long: not sampled
  absl::Duration poll_interval = absl::Milliseconds(50);
  uint64_t seed = 0;            // client sampling
  std::string checkpoint_path;  // empty: no checkpoint
  bool collect_audit_manifests = false;
  WireLimits limits;
  // What one client may claim and send (docs/security.md): a larger
  // num_examples is refused, so that no client owns the weighted mean and
  // the round's sum cannot overflow.
  int64_t max_examples_per_update = 10'000'000;
  // Bound on each update's L2 norm; 0: none beyond a finite norm. An update
  // above it is refused or scaled down to it, as the policy says.
  double max_update_norm = 0;
  UpdateNormPolicy update_norm_policy = UpdateNormPolicy::kReject;
  // How the round's updates combine (server/robust_aggregation.h): the
  // example-weighted mean, or a rule robust to a Byzantine client.
  Aggregator aggregator;
  // Accepted updates kept for auditors (oldest dropped beyond this); 0 keeps
  // none, so a federation without auditors holds no old updates in memory.
  size_t observation_log_limit = 0;
  // A malicious server's entries (server/pinned_entries.h), written over
  // every model version it publishes; empty, the default, for an honest one.
  TensorTable malicious_entries;
};

absl::Status ValidateFederationConfig(const FederationConfig& config);
absl::StatusOr<TrainingMode> ParseTrainingMode(const std::string& name);

class FederationCore {
 public:
  // Resumes from config.checkpoint_path when that file exists (its run id
  // and model spec must match), else starts from `initial_model`.
  static absl::StatusOr<std::unique_ptr<FederationCore>> Create(const FederationConfig& config,
                                                                TensorTable initial_model,
                                                                ModelEvaluator evaluator);
  ~FederationCore();

  void Start();  // starts the round driver
  void Stop();   // stops it; later calls see the federation as ended

  const FederationConfig& config() const { return config_; }

  // Registers `client` (again, after a server restart) and marks it alive.
  void Join(const std::string& client);
  // The next task of `client`, and marks it alive. NOT_FOUND, registering
  // nothing, when it has not joined (or not since a server restart).
  absl::StatusOr<v1::Task> PullTask(const std::string& client);
  // Marks `client` alive; NOT_FOUND, registering nothing, as PullTask.
  absl::StatusOr<v1::HeartbeatReply> Heartbeat(const std::string& client);
  // NOT_FOUND when that version is not kept.
  absl::StatusOr<std::shared_ptr<const TensorTable>> Model(int64_t version) const;
  const TensorTable& update_schema() const { return update_schema_; }

  // Whether `principal` may submit an update with this header now: the
  // precise status of the first violation (see docs/federation.md).
  absl::Status CheckSubmission(const std::string& principal, const v1::UpdateHeader& header) const;
  // Re-checks and stores a complete, validated update, after bounding its
  // norm (config().max_update_norm): INVALID_ARGUMENT when refused, scaled
  // down (and logged) when clipped.
  absl::Status AcceptUpdate(const std::string& principal, const v1::UpdateHeader& header, TensorTable tensors,
                            std::optional<v1::AuditManifest> audit);
  void CountRejection();

  // As ObservationLog::Wait; the log ends when the federation finishes or
  // the core stops.
  ObservationWait WaitObservation(size_t* index, absl::Duration timeout, std::shared_ptr<const Observation>* out) {
    return observations_.Wait(index, timeout, out);
  }
  // NOT_FOUND when no manifest was stored for (round, client).
  absl::StatusOr<v1::AuditManifest> AuditManifest(int64_t round, const std::string& client) const {
    return observations_.Manifest(round, client);
  }

  // Bytes of updates the open round holds for its aggregation: the running
  // mean's sum (about one model in double-double, however many clients), or
  // every accepted update for the robust rules; 0 with no round open.
  size_t round_bytes_held() const;
  int64_t completed_rounds() const;
  bool finished() const;
  std::vector<RoundSummary> history() const;
  std::shared_ptr<const TensorTable> current_model() const;
  // Returns true when finished within `timeout`.
  bool WaitUntilFinished(absl::Duration timeout) const;
  // Called (from the driver thread) after each completed round is checkpointed.
  void SetRoundListener(std::function<void(const RoundSummary&)> listener);

 private:
  struct ClientState {
    absl::Time last_seen;
  };
  // An accepted update as the round keeps it: its weight, and the update
  // itself only where the aggregator needs every update at once (the
  // robust rules); the mean takes each update into its running sum.
  struct Received {
    int64_t num_examples = 0;
    std::shared_ptr<const ClientUpdate> update;  // null when summed
  };
  struct RunningMean {
    explicit RunningMean(std::shared_ptr<const TensorTable> model) : mean(std::move(model)) {}
    std::mutex mutex;  // one Add at a time, outside the core's lock
    WeightedMean mean;
  };
  struct OpenRound {
    int64_t round = 0;
    int attempt = 0;
    std::vector<std::string> sampled;
    std::map<std::string, Received> received;
    std::shared_ptr<RunningMean> mean;  // the mean aggregator's running sum; else null
    int adding = 0;                     // accepted updates still being added to `mean`
    std::map<std::string, double> train_loss;
    absl::Time opened, deadline;
    int extensions = 0;                 // deadlines passed short of the quorum
    std::vector<std::string> replaced;  // sampled, then replaced by others
    std::string waiting_for;            // what the last deadline logged
    int64_t rejected = 0;
  };

  FederationCore(const FederationConfig& config, ModelEvaluator evaluator);
  void DriverLoop();
  void MaybeOpenRound(std::unique_lock<std::mutex>& lock);
  bool KeepWaitingPastDeadline();
  void CloseRound(std::unique_lock<std::mutex>& lock);
  // The summary of a round about to close.
  static RoundSummary SummarizeRound(const OpenRound& round);
  // The model after `round` from `base`: its running mean, or the
  // configured rule over its held updates.
  absl::StatusOr<TensorTable> AggregateRound(const OpenRound& round, const TensorTable& base) const;
  // Takes an update the round accepted into its running mean (outside the
  // lock); on failure the update is taken back.
  absl::Status AddToRunningMean(std::shared_ptr<RunningMean> mean, std::shared_ptr<const ClientUpdate> update);
  // Test accuracy and loss of `model` into `summary` (on the evaluation
  // rounds), its duration since `opened`, then the checkpoint of the closed
  // round.
  void EvaluateAndCheckpoint(const TensorTable& model, absl::Time opened, RoundSummary& summary);
  void Touch(const std::string& client);
  // Marks a client that joined alive; NOT_FOUND for one that did not.
  absl::Status TouchJoined(const std::string& client);
  absl::Status CheckSubmissionLocked(const std::string& principal, const v1::UpdateHeader& header) const;

  const FederationConfig config_;
  const ModelEvaluator evaluator_;
  TensorTable update_schema_;

  mutable std::mutex mutex_;
  mutable std::condition_variable changed_;
  std::map<std::string, ClientState> clients_;
  std::map<int64_t, std::shared_ptr<const TensorTable>> versions_;
  int64_t completed_ = 0;
  std::vector<RoundSummary> history_;
  std::optional<OpenRound> open_;
  bool closing_ = false;
  int next_attempt_ = 0;
  bool stopped_ = false;
  ObservationLog observations_;
  std::function<void(const RoundSummary&)> listener_;
  std::thread driver_;
};

}  // namespace biofed

#endif  // BIOFED_SERVER_FEDERATION_CORE_H_
