#include "cli/flag_groups.h"

#include "common/field_flags.h"
#include "common/status_macros.h"

namespace biofed {

void AddDataFlags(FlagSet& flags, DataFlags* data) {
  flags.AddString("dataset", &data->dataset, "fashion-mnist, mnist, cifar10 or cifar100");
  flags.AddString("data-dir", &data->data_dir, "directory of the dataset files (default per dataset)");
}

absl::StatusOr<DatasetSplits> LoadData(const DataFlags& data) { return LoadDataset(data.dataset, data.data_dir); }

void AddComputeFlags(FlagSet& flags, ComputeFlags* compute) {
  flags.AddString("device", &compute->device, "auto, cpu, cuda or cuda:N");
  flags.AddInt("threads", &compute->threads, "LibTorch threads (0 = all cores)");
}

void AddAttackerFlags(FlagSet& flags, AttackSpec* attacker) {
  AddFieldFlags(flags, *attacker, [](AttackSpec& t, auto&& v) { VisitFields(t, v); }, AttackSettingHelp());
}

void AddBiomodFlags(FlagSet& flags, BiomodFlags* biomod, const std::string& mechanisms_help) {
  flags.AddString("biomod", &biomod->mechanisms, mechanisms_help);
  AddFieldFlags(flags, biomod->parameters, [](BiomodOptions& t, auto&& v) { VisitParameters(t, v); },
                BiomodParameterHelp());
}

absl::StatusOr<BiomodOptions> ParseBiomodFlags(const BiomodFlags& biomod) {
  BIOFED_ASSIGN_OR_RETURN(BiomodOptions options, ParseBiomod(biomod.mechanisms, biomod.parameters));
  BIOFED_RETURN_IF_ERROR(ValidateBiomod(options));
  return options;
}

}  // namespace biofed
