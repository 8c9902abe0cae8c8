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
#include "simulate/simulation_config.h"

namespace biofed {
struct FederationOutcome {
  std::string name;  // "baseline" or the biomod name
  int64_t run_id = 0;
  std::vector<RoundRow> rounds;
  std::vector<ObservedAttack> attacks;
  // The whole run's (epsilon, kSimulationDpDelta) from the RDP accountant
  // when its clients train with DP-SGD (one step's sampling rate batch /
  // the smallest client's data, Poisson assumed); +infinity without.
  double dp_epsilon = 0;
};

inline constexpr double kSimulationDpDelta = 1e-5;

// Runs every federation of `config` in turn, appending to `store`. `progress`
// receives one line per event worth telling (rounds, attacks).
absl::StatusOr<std::vector<FederationOutcome>> RunSimulation(const SimulationConfig& config, ResultsStore& store,
                                                             const std::function<void(const std::string&)>& progress);

}  // namespace biofed

#endif  // BIOFED_SIMULATE_SIMULATION_H_
