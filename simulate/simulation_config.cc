#include "simulate/simulation_config.h"

#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "client/biomod_options.h"
#include "common/json_config.h"
#include "common/status_macros.h"
#include "data/dataset.h"
#include "models/model_spec.h"

namespace biofed {
namespace {

using Json = nlohmann::json;

const std::map<std::string, std::string>& OwnHelp() {
  static const auto* help = new std::map<std::string, std::string>{
      {"dataset", "fashion-mnist, mnist, cifar10 or cifar100"},
      {"data_dir", "directory of the dataset files (default per dataset)"},
      {"model", "mlp, alexnet, resnet20, resnet32 or resnet56"},
      {"clients", "clients per federation"},
      {"samples_per_client", "first N samples of each partition (0: all)"},
      {"partition", "iid, dirichlet or shards"},
      {"dirichlet_alpha", "concentration of the dirichlet partition"},
      {"rounds", "rounds per federation"},
      {"mode", "fedsgd (one local step) or fedavg"},
      {"share", "what each client sends: pseudo_gradient ((w - w') / lr, WR's resets inside), or with fedsgd "
                "gradient (the step FL scaled, WR's resets not in it) or raw (the autograd gradient, before FL and "
                "WR); those two run the federation in-process, the gRPC protocol carries pseudo-gradients"},
      {"lr", "client learning rate"},
      {"local_epochs", "FedAvg local epochs"},
      {"batch", "local batch size (0: whole partition)"},
      {"server_lr", "server learning rate (1: plain FedSGD / FedAvg)"},
      {"aggregator", "mean (example-weighted), median, trimmed-mean:F or norm-clip:C"},
      {"seed", "seed of everything (model, partition, client state, attacks)"},
      {"server_behaviour", "honest, or imprint: a MALICIOUS server that imprints every client's model (attack imprint "
                           "reads their inputs off it; --imprint-bins sets its bins)"},
      {"dp_clip", "DP-SGD in every client: clip each example's gradient to this L2 norm (0: off; no ResNet)"},
      {"dp_noise", "DP-SGD noise multiplier sigma (noise std sigma x clip per coordinate), with dp_clip"},
      {"biomods", "federations to run, comma separated, mechanisms joined by +: none,fl+wr+ws"},
      {"attack_rounds", "rounds whose updates are attacked, comma separated; -1 is the last"},
      {"attacked_clients", "attack the first N clients' updates"},
      {"attack_workers", "parallel attack workers"},
      {"threads", "LibTorch threads (0 = all cores)"},
      {"device", "auto, cpu, cuda or cuda:N"},
  };
  return *help;
}

}  // namespace

std::string SimulationConfigJson(const SimulationConfig& config) {
  SimulationConfig c = config;
  Json j = Json::object();
  WriteJsonKeys(c, [](SimulationConfig& target, auto&& v) { VisitFields(target, v); }, j);
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
  BIOFED_RETURN_IF_ERROR(ValidateAttackSpec(c.attacker));
  if (c.clients < 1) return absl::InvalidArgumentError("clients must be at least 1");
  if (c.rounds < 1) return absl::InvalidArgumentError("rounds must be at least 1");
  if (c.mode != "fedsgd" && c.mode != "fedavg") return absl::InvalidArgumentError("mode must be fedsgd or fedavg");
  if (IsOneStepShare(c.share) && c.mode != "fedsgd") {
    return absl::InvalidArgumentError(absl::StrCat("share ", SharedKindName(c.share),
                                                   " is one step's: it needs mode fedsgd"));
  }
  if (!(c.lr > 0)) return absl::InvalidArgumentError("lr must be positive");
  if (c.batch < 0 || c.samples_per_client < 0) return absl::InvalidArgumentError("batch and samples_per_client must be >= 0");
  if (c.biomods.empty()) return absl::InvalidArgumentError("biomods needs at least one entry ('none' is the baseline)");
  for (const std::string& b : c.biomods) {
    BIOFED_ASSIGN_OR_RETURN(BiomodOptions biomod, ParseBiomod(b, c.mechanism_parameters));
    BIOFED_RETURN_IF_ERROR(ValidateBiomod(biomod));
  }
  if ((c.attacker.config.kind == AttackKind::kImprint) != (c.server_behaviour == ServerBehaviour::Kind::kImprint)) {
    return absl::InvalidArgumentError(
        c.server_behaviour == ServerBehaviour::Kind::kImprint
            ? "server_behaviour imprint is the imprint attacker's: set attack imprint (optimisation attacks on an "
              "imprinted model are not supported)"
            : "attack imprint needs a malicious server: set server_behaviour imprint (the server then imprints every "
              "client's model)");
  }
  if (c.attacker.config.mask == UpdateMask::kOracle) {
    return absl::InvalidArgumentError(
        "mask oracle replays a fresh client's single step; a federation's clients carry their WR stream across "
        "rounds (use it in attack or sweep)");
  }
  BIOFED_RETURN_IF_ERROR(ValidateDpSgd(c.dp));
  if (c.dp.noise_multiplier > 0 && !c.dp.enabled()) return absl::InvalidArgumentError("dp_noise needs dp_clip");
  if (c.dp.enabled() && HasBatchNorm(*ParseArchitecture(c.model))) {
    return absl::InvalidArgumentError("DP-SGD needs a model without BatchNorm (its statistics are released "
                                      "unnoised): mlp or alexnet");
  }
  if (c.attack_workers < 1) return absl::InvalidArgumentError("attack_workers must be at least 1");
  if (c.attacked_clients < 0) return absl::InvalidArgumentError("attacked_clients must be >= 0");
  for (int64_t r : c.attack_rounds) {
    if (r == 0 || r > c.rounds || r < -c.rounds) {
      return absl::InvalidArgumentError(absl::StrCat("attack round ", r, " is outside 1..", c.rounds, " and -",
                                                     c.rounds, "..-1 (counted from the end)"));
    }
  }
  return absl::OkStatus();
}

const std::map<std::string, std::string>& SimulationConfigHelp() {
  static const auto* help = [] {
    auto* all = new std::map<std::string, std::string>(OwnHelp());
    all->insert(AttackSettingHelp().begin(), AttackSettingHelp().end());
    all->insert(BiomodParameterHelp().begin(), BiomodParameterHelp().end());
    return all;
  }();
  return *help;
}

std::vector<int64_t> AttackedRounds(const SimulationConfig& c) {
  std::set<int64_t> rounds;
  for (int64_t r : c.attack_rounds) rounds.insert(r > 0 ? r : c.rounds + 1 + r);
  return {rounds.begin(), rounds.end()};
}

}  // namespace biofed
