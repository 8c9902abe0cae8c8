// The simulation's configuration file (JSON: every key of SimulationConfig,
// all optional, unknown keys refused) and its JSON form, which is also what
// `--print-config` shows and what the study records with each run.
#ifndef BIOFED_SIMULATE_SIMULATION_CONFIG_H_
#define BIOFED_SIMULATE_SIMULATION_CONFIG_H_

#include <string>

#include "absl/status/statusor.h"
#include "simulate/simulation.h"

namespace biofed {

std::string SimulationConfigJson(const SimulationConfig& config);

// Applies the keys of `json` over `base`. INVALID_ARGUMENT naming `source`
// and the key for malformed JSON, an unknown key or a value of the wrong type.
absl::StatusOr<SimulationConfig> ParseSimulationConfig(const std::string& json, const std::string& source,
                                                       SimulationConfig base = {});

}  // namespace biofed

#endif  // BIOFED_SIMULATE_SIMULATION_CONFIG_H_
