#include "models/model_spec.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace biofed {

const std::vector<std::string>& KnownArchitectures() {
  static const auto* names =
      new std::vector<std::string>{"mlp", "alexnet", "resnet20", "resnet32", "resnet56"};
  return *names;
}

absl::StatusOr<Architecture> ParseArchitecture(const std::string& name) {
  if (name == "mlp") return Architecture::kMlp;
  if (name == "alexnet") return Architecture::kAlexNet;
  if (name == "resnet20") return Architecture::kResNet20;
  if (name == "resnet32") return Architecture::kResNet32;
  if (name == "resnet56") return Architecture::kResNet56;
  return absl::InvalidArgumentError(absl::StrCat("unknown model '", name, "'; known: ",
                                                 absl::StrJoin(KnownArchitectures(), ", ")));
}

std::string ArchitectureName(Architecture architecture) {
  switch (architecture) {
    case Architecture::kMlp: return "mlp";
    case Architecture::kAlexNet: return "alexnet";
    case Architecture::kResNet20: return "resnet20";
    case Architecture::kResNet32: return "resnet32";
    case Architecture::kResNet56: return "resnet56";
  }
  return "unknown";
}

}  // namespace biofed
