// `biofed simulate`: federations run locally, attacked as they train. For
// each biomod setting (e.g. baseline and FL+WR+WS) one process-local
// federation: the gRPC server on loopback, K clients in threads (each with
// its partition and private biomod state), an auditor on the observer
// stream and a pool of attack workers that reconstruct the selected
// (round, client) updates while training goes on, scored against the true
// batch through the audit manifest. Results go to a SQLite study.
#ifndef BIOFED_SIMULATE_SIMULATION_H_
#define BIOFED_SIMULATE_SIMULATION_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "simulate/results_store.h"

namespace biofed {

struct SimulationConfig {
  // Data and model.
  std::string dataset = "fashion-mnist";
  std::string data_dir;
  std::string model = "mlp";
  // Federation.
  int64_t clients = 4;
  int64_t samples_per_client = 500;  // 0: the whole partition
  std::string partition = "iid";
  double dirichlet_alpha = 0.5;
  int64_t rounds = 30;
  std::string mode = "fedsgd";
  double lr = 0.1;
  int64_t local_epochs = 1;
  int64_t batch = 4;
  double server_lr = 1.0;
  uint64_t seed = 0;
  // One federation per entry ("none" is the baseline).
  std::vector<std::string> biomods = {"none", "fl,wr,ws"};
  double tau = 0.18;
  double d_re = 14.0;
  int64_t gamma = 2;
  // Attacks.
  std::string attack = "ig";
  int64_t attack_iterations = 1000;
  double attack_lr = 0.1;
  double tv_weight = 1e-6;
  int64_t restarts = 1;
  std::string labels = "inferred";  // or "known"
  bool fl_factors_known = false;
  std::vector<int64_t> attack_rounds = {1, 30};  // rounds whose updates are attacked
  int64_t attacked_clients = 1;                  // the first N clients (c0, c1, ...)
  int64_t attack_workers = 1;
  // Machinery.
  int64_t threads = 0;  // LibTorch threads, 0 = all cores
  std::string device = "auto";
};

absl::Status ValidateSimulationConfig(const SimulationConfig& config);

struct FederationOutcome {
  std::string name;  // "baseline" or the biomod name
  int64_t run_id = 0;
  std::vector<RoundRow> rounds;
  std::vector<AttackRow> attacks;
};

// Runs every federation of `config` in turn, appending to `store`. `progress`
// receives one line per event worth telling (rounds, attacks).
absl::StatusOr<std::vector<FederationOutcome>> RunSimulation(const SimulationConfig& config, ResultsStore& store,
                                                             const std::function<void(const std::string&)>& progress);

}  // namespace biofed

#endif  // BIOFED_SIMULATE_SIMULATION_H_
