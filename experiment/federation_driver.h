// One federation driver with two transports. A federation is described once
// (FederationPlan: the model, the clients with their private seeds,
// mechanisms and data, the rounds' task, the server's step, what is
// evaluated and which updates an auditor observes) and run either
//  - in process: the clients' LocalTrainers and the aggregation called
//    directly, one round after another (fast; sweeps and tests), or
//  - over gRPC: a FederationServer on 127.0.0.1:0, one FederatedClient per
//    client in its own thread and an auditor on the observer stream, the
//    code a deployment runs (simulate, integration tests).
// Both run the same client code (LocalTrainer) and aggregation (Aggregate,
// updates in client-id order), so the same plan gives the same model bit for
// bit on both (tests/experiment/federation_driver_test.cc). The hooks see
// every closed round and every observed update (the round's global model,
// exactly what the client sent, and the true batch). Not thread-safe per
// call; the hooks may be called from other threads (over gRPC, one at a time
// per hook).
#ifndef BIOFED_EXPERIMENT_FEDERATION_DRIVER_H_
#define BIOFED_EXPERIMENT_FEDERATION_DRIVER_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "attack/update_record.h"
#include "client/biomod_options.h"
#include "client/dp_sgd_options.h"
#include "client/local_training.h"
#include "experiment/round_row.h"
#include "models/model_spec.h"
#include "server/evaluation.h"
#include "server/robust_aggregation.h"
#include "wire/host_tensor.h"

namespace biofed {

struct ClientPlan {
  std::string id;  // "c0", ...: also the order of aggregation
  uint64_t seed = 0;    // private: FL factors, WR stream, data order
  BiomodOptions biomod;  // FL and WR (WS is the model's)
  LocalData data;
  DpSgdOptions dp;  // DP-SGD in the training loop, off unless enabled
};

// A client's defense of its update, applied after training and before it is
// sent (round, the client's index in the plan, its update).
using UpdateDefense = std::function<absl::Status(int64_t round, size_t client, TensorTable& update)>;

struct FederationPlan {
  std::string name = "federation";
  ModelSpec spec;
  TensorTable initial_model;
  std::string dataset;  // the training split's name, recorded with observations
  std::vector<ClientPlan> clients;
  int64_t rounds = 1;
  LocalTask task;  // its round is set per round
  double server_lr = 1.0;  // the global step is server_lr * task.lr
  Aggregator aggregator;   // the example-weighted mean unless set
  int64_t evaluate_every = 1;  // and always the last round
  ModelEvaluator evaluate;     // optional
  UpdateDefense defend;        // optional
  // A malicious server's entries (server/pinned_entries.h), written over the
  // global model before every round; empty, the default, for an honest one.
  TensorTable malicious_entries;
  std::string device = "cpu";  // the clients' ResolveDevice spec
  // The updates the hooks observe (empty: none).
  std::set<int64_t> observed_rounds;
  std::set<std::string> observed_clients;
};

struct FederationHooks {
  std::function<void(const RoundRow&)> on_round;
  // An observed update and its true batch (CaptureFile with its audit).
  std::function<void(CaptureFile)> on_update;
  // Called after on_round: true ends the run after that round, as if it were
  // the plan's last (a training that stops at a plateau). The in-process
  // transport only: kGrpc refuses a plan run with it.
  std::function<bool(const RoundRow&)> finished;
};

struct FederationRun {
  TensorTable model;            // after the last round
  std::vector<RoundRow> rounds;  // test accuracy and loss set on evaluated rounds only
};

enum class Transport { kInProcess, kGrpc };

// Runs the plan. CANCELLED when `stop` (optional) is raised between rounds;
// FAILED_PRECONDITION for kGrpc in a build without the federation layer;
// a client's, the server's or the observer's error otherwise.
absl::StatusOr<FederationRun> RunFederation(const FederationPlan& plan, Transport transport,
                                            const FederationHooks& hooks, const std::atomic<bool>* stop = nullptr);

// True for a round the plan evaluates.
bool EvaluatedRound(const FederationPlan& plan, int64_t round);

// The in-process transport; RunFederation's kInProcess.
absl::StatusOr<FederationRun> RunInProcessFederation(const FederationPlan& plan, const FederationHooks& hooks,
                                                     const std::atomic<bool>* stop);

}  // namespace biofed

#endif  // BIOFED_EXPERIMENT_FEDERATION_DRIVER_H_
