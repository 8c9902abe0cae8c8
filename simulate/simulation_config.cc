#include "simulate/simulation_config.h"

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "attack/attack.h"
#include "client/biomod_options.h"
#include "common/json_config.h"
#include "common/status_macros.h"
#include "data/dataset.h"
#include "models/model_spec.h"

namespace biofed {
namespace {

using Json = nlohmann::json;

// Every key, bound to its field: one list serves printing and parsing.
template <typename Visitor>
void VisitFields(SimulationConfig& c, Visitor&& v) {
  v("dataset", c.dataset);
  v("data_dir", c.data_dir);
  v("model", c.model);
  v("clients", c.clients);
  v("samples_per_client", c.samples_per_client);
  v("partition", c.partition);
  v("dirichlet_alpha", c.dirichlet_alpha);
  v("rounds", c.rounds);
  v("mode", c.mode);
  v("lr", c.lr);
  v("local_epochs", c.local_epochs);
  v("batch", c.batch);
  v("server_lr", c.server_lr);
  v("seed", c.seed);
  v("biomods", c.biomods);
  v("tau", c.tau);
  v("d_re", c.d_re);
  v("gamma", c.gamma);
  v("attack", c.attack);
  v("attack_iterations", c.attack_iterations);
  v("attack_lr", c.attack_lr);
  v("tv_weight", c.tv_weight);
  v("restarts", c.restarts);
  v("labels", c.labels);
  v("fl_factors_known", c.fl_factors_known);
  v("attack_rounds", c.attack_rounds);
  v("attacked_clients", c.attacked_clients);
  v("attack_workers", c.attack_workers);
  v("threads", c.threads);
  v("device", c.device);
}

}  // namespace

std::string SimulationConfigJson(const SimulationConfig& config) {
  SimulationConfig c = config;
  Json j = Json::object();
  VisitFields(c, [&](const char* key, auto& field) { j[key] = field; });
  return j.dump(2);
}

absl::StatusOr<SimulationConfig> ParseSimulationConfig(const std::string& text, const std::string& source,
                                                       SimulationConfig base) {
  BIOFED_ASSIGN_OR_RETURN(Json j, ParseJsonText(text, source));
  BIOFED_RETURN_IF_ERROR(ApplyJsonKeys(j, source, base, [](SimulationConfig& c, auto&& v) { VisitFields(c, v); }));
  return base;
}

absl::Status ValidateSimulationConfig(const SimulationConfig& c) {
  BIOFED_RETURN_IF_ERROR(ParseArchitecture(c.model).status());
  BIOFED_RETURN_IF_ERROR(ParseAttackKind(c.attack).status());
  if (c.clients < 1) return absl::InvalidArgumentError("clients must be at least 1");
  if (c.rounds < 1) return absl::InvalidArgumentError("rounds must be at least 1");
  if (c.mode != "fedsgd" && c.mode != "fedavg") return absl::InvalidArgumentError("mode must be fedsgd or fedavg");
  if (!(c.lr > 0)) return absl::InvalidArgumentError("lr must be positive");
  if (c.batch < 0 || c.samples_per_client < 0) return absl::InvalidArgumentError("batch and samples_per_client must be >= 0");
  if (c.biomods.empty()) return absl::InvalidArgumentError("biomods needs at least one entry ('none' is the baseline)");
  for (const std::string& b : c.biomods) BIOFED_RETURN_IF_ERROR(ParseBiomod(b).status());
  if (c.labels != "known" && c.labels != "inferred") return absl::InvalidArgumentError("labels must be known or inferred");
  if (c.attack_iterations < 1 || c.restarts < 1) return absl::InvalidArgumentError("attack iterations and restarts must be >= 1");
  if (c.attack_workers < 1) return absl::InvalidArgumentError("attack_workers must be at least 1");
  if (c.attacked_clients < 0) return absl::InvalidArgumentError("attacked_clients must be >= 0");
  for (int64_t r : c.attack_rounds) {
    if (r < 1 || r > c.rounds) {
      return absl::InvalidArgumentError(absl::StrCat("attack round ", r, " is outside 1..", c.rounds));
    }
  }
  return absl::OkStatus();
}

}  // namespace biofed
