// Groups of flags several commands share, each declared once and bound to a
// typed target: the data a command reads, where it computes, the attacker
// (derived from AttackSpec's field list) and the biomod mechanisms with their
// parameters (derived from BiomodOptions' list). Not thread-safe (as FlagSet).
#ifndef BIOFED_CLI_FLAG_GROUPS_H_
#define BIOFED_CLI_FLAG_GROUPS_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "attack/attack_settings.h"
#include "client/biomod_options.h"
#include "common/flags.h"
#include "data/dataset.h"

namespace biofed {

// --dataset, --data-dir.
struct DataFlags {
  std::string dataset = "fashion-mnist";
  std::string data_dir;
};
void AddDataFlags(FlagSet& flags, DataFlags* data);
absl::StatusOr<DatasetSplits> LoadData(const DataFlags& data);

// --device, --threads.
struct ComputeFlags {
  std::string device = "auto";
  int64_t threads = 0;
};
void AddComputeFlags(FlagSet& flags, ComputeFlags* compute);

// --attack, --attack-iterations, ..., --local-hyperparameters: every setting
// of AttackSpec (attack/attack_settings.h).
void AddAttackerFlags(FlagSet& flags, AttackSpec* attacker);

// --biomod (the mechanism set: none, or fl, wr, ws joined by + or ,) and
// --tau, --d-re, --gamma, --wr-variant (BiomodOptions' parameters).
// ParseBiomodFlags combines them after parsing.
struct BiomodFlags {
  std::string mechanisms = "none";
  BiomodOptions parameters;
};
void AddBiomodFlags(FlagSet& flags, BiomodFlags* biomod, const std::string& mechanisms_help);
absl::StatusOr<BiomodOptions> ParseBiomodFlags(const BiomodFlags& biomod);

}  // namespace biofed

#endif  // BIOFED_CLI_FLAG_GROUPS_H_
