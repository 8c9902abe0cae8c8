#include "models/model_spec.h"

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "common/json_value.h"
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

bool HasBatchNorm(Architecture architecture) {
  return architecture != Architecture::kMlp && architecture != Architecture::kAlexNet;
}

std::string ModelSpecToJson(const ModelSpec& s) {
  nlohmann::json j = {{"architecture", ArchitectureName(s.architecture)},
                      {"input", {s.input.channels, s.input.height, s.input.width}},
                      {"num_classes", s.num_classes},
                      {"split_gamma", s.split_gamma}};
  // Written only for an imprinted model, so an honest spec reads as before.
  if (s.imprint_bins > 0) j["imprint_bins"] = s.imprint_bins;
  return j.dump();
}

absl::StatusOr<ModelSpec> ModelSpecFromJson(const std::string& json) {
  ModelSpec spec;
  try {
    const nlohmann::json j = nlohmann::json::parse(json);
    auto architecture = ParseArchitecture(JsonAs<std::string>(j.at("architecture")));
    if (!architecture.ok()) return architecture.status();
    spec.architecture = *architecture;
    const auto input = JsonAs<std::vector<int64_t>>(j.at("input"));
    if (input.size() != 3) return absl::InvalidArgumentError("model spec: input needs 3 numbers [C, H, W]");
    spec.input = {input[0], input[1], input[2]};
    spec.num_classes = JsonAs<int64_t>(j.at("num_classes"));
    spec.split_gamma = JsonAs<int64_t>(j.at("split_gamma"));
    if (j.contains("imprint_bins")) spec.imprint_bins = JsonAs<int64_t>(j.at("imprint_bins"));
    if (spec.imprint_bins < 0 || spec.imprint_bins > kMaxImprintBins) {
      return absl::InvalidArgumentError(absl::StrCat("model spec: imprint_bins must be in [0, ", kMaxImprintBins, "]"));
    }
  } catch (const nlohmann::json::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("malformed model spec: ", e.what()));
  }
  return spec;
}

}  // namespace biofed
