// The simulation's configuration file (JSON: every key of SimulationConfig,
// all optional, unknown keys refused) and its JSON form, which is also what
// `--print-config` shows and what the study records with each run.
#ifndef BIOFED_SIMULATE_SIMULATION_CONFIG_H_
#define BIOFED_SIMULATE_SIMULATION_CONFIG_H_

#include <cstdint>
#include <map>
#include <string>
#include <type_traits>
#include <vector>

#include "absl/status/statusor.h"
#include "attack/attack_settings.h"
#include "attack/server_behaviour.h"
#include "client/biomod_options.h"
#include "client/dp_sgd_options.h"
#include "client/update_share.h"
#include "common/record_fields.h"
#include "server/robust_aggregation.h"

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
  // What each client sends: its pseudo-gradient (w - w') / lr, WR's resets
  // inside (the protocol's), or, FedSGD only, the gradient its optimizer
  // applied or the raw autograd gradient (client/update_share.h); the
  // server applies what it receives.
  SharedKind share = SharedKind::kPseudoGradient;
  double lr = 0.1;
  int64_t local_epochs = 1;
  int64_t batch = 4;
  double server_lr = 1.0;
  Aggregator aggregator;  // the example-weighted mean unless set
  uint64_t seed = 0;
  // kImprint: a MALICIOUS server, never the default: it puts an imprint
  // block (the attacker's imprint_bins) in front of the model and keeps it in
  // every round; the imprint attack reads the clients' inputs off it.
  ServerBehaviour::Kind server_behaviour = ServerBehaviour::Kind::kHonest;
  // One federation per entry ("none" is the baseline), mechanisms joined by
  // '+' or ','; their parameters (tau, d_re, gamma, wr_variant) as keys of
  // their own.
  std::vector<std::string> biomods = {"none", "fl+wr+ws"};
  BiomodOptions mechanism_parameters;
  // DP-SGD in every client's training loop (client/dp_sgd.h), off unless
  // dp_clip > 0; models without BatchNorm only.
  DpSgdOptions dp;
  // The attacker: attack, attack_iterations, attack_lr, tv_weight, restarts,
  // ignore_largest and the threat model (labels, fl_factors, batch_size,
  // local_hyperparameters), as keys of their own.
  AttackSpec attacker;
  // Rounds whose updates are attacked; -1 is the last round, -2 the one
  // before it.
  std::vector<int64_t> attack_rounds = {1, -1};
  int64_t attacked_clients = 1;                  // the first N clients (c0, c1, ...)
  int64_t attack_workers = 1;
  // Machinery.
  int64_t threads = 0;  // LibTorch threads, 0 = all cores
  std::string device = "auto";
};

// Every key, bound to its field: the config file, --print-config, the
// command's flags and the study's record of the config all derive from it.
template <typename Config, typename Visitor,
          std::enable_if_t<std::is_same_v<std::decay_t<Config>, SimulationConfig>, int> = 0>
void VisitFields(Config& c, Visitor&& v) {
  v("dataset", c.dataset);
  v("data_dir", c.data_dir);
  v("model", c.model);
  v("clients", c.clients);
  v("samples_per_client", c.samples_per_client);
  v("partition", c.partition);
  v("dirichlet_alpha", c.dirichlet_alpha);
  v("rounds", c.rounds);
  v("mode", c.mode);
  v("share", c.share, EnumText<SharedKind>{SharedKindName, ParseSharedKind});
  v("lr", c.lr);
  v("local_epochs", c.local_epochs);
  v("batch", c.batch);
  v("server_lr", c.server_lr);
  v("aggregator", c.aggregator, EnumText<Aggregator>{AggregatorName, ParseAggregator});
  v("seed", c.seed);
  v("server_behaviour", c.server_behaviour,
    EnumText<ServerBehaviour::Kind>{ServerBehaviourKindName, ParseServerBehaviourKind});
  v("biomods", c.biomods);
  VisitParameters(c.mechanism_parameters, v);
  v("dp_clip", c.dp.clip);
  v("dp_noise", c.dp.noise_multiplier);
  VisitFields(c.attacker, v);
  v("attack_rounds", c.attack_rounds);
  v("attacked_clients", c.attacked_clients);
  v("attack_workers", c.attack_workers);
  v("threads", c.threads);
  v("device", c.device);
}

// One line of help per key, by name (for the derived flags).
const std::map<std::string, std::string>& SimulationConfigHelp();

// INVALID_ARGUMENT naming the first value out of its domain (unknown model,
// attack or mechanism, a count below its minimum, an attack round past the end).
absl::Status ValidateSimulationConfig(const SimulationConfig& config);

// The attacked rounds as round numbers (negative entries counted from the
// end), each once, ascending. Expects a valid config.
std::vector<int64_t> AttackedRounds(const SimulationConfig& config);

std::string SimulationConfigJson(const SimulationConfig& config);

// Applies the keys of `json` over `base`. INVALID_ARGUMENT naming `source`
// and the key for malformed JSON, an unknown key or a value of the wrong type.
absl::StatusOr<SimulationConfig> ParseSimulationConfig(const std::string& json, const std::string& source,
                                                       SimulationConfig base = {});

}  // namespace biofed

#endif  // BIOFED_SIMULATE_SIMULATION_CONFIG_H_
