// The simulation's configuration file (JSON: every key of SimulationConfig,
// all optional, unknown keys refused) and its JSON form, which is also what
// `--print-config` shows and what the study records with each run.
#ifndef BIOFED_SIMULATE_SIMULATION_CONFIG_H_
#define BIOFED_SIMULATE_SIMULATION_CONFIG_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace biofed {

// Every key of the configuration file, with its default.
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

// INVALID_ARGUMENT naming the first value out of its domain (unknown model,
// attack or mechanism, a count below its minimum, an attack round past the end).
absl::Status ValidateSimulationConfig(const SimulationConfig& config);

std::string SimulationConfigJson(const SimulationConfig& config);

// Applies the keys of `json` over `base`. INVALID_ARGUMENT naming `source`
// and the key for malformed JSON, an unknown key or a value of the wrong type.
absl::StatusOr<SimulationConfig> ParseSimulationConfig(const std::string& json, const std::string& source,
                                                       SimulationConfig base = {});

}  // namespace biofed

#endif  // BIOFED_SIMULATE_SIMULATION_CONFIG_H_
