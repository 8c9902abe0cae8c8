#include <cstdio>

#include "absl/strings/str_format.h"
#include "cli/cli_util.h"
#include "cli/commands.h"
#include "data/dataset.h"
#include "models/model.h"

namespace biofed {

int RunInfoCommand(const std::vector<std::string>& args) {
  int64_t classes = 10;
  FlagSet flags("info",
                "`biofed info models` prints every model with its trainable parameter count\n"
                "per input shape (with and without weight splitting); `biofed info datasets`\n"
                "lists the datasets and where they are read from.");
  flags.AddInt("classes", &classes, "number of classes for the parameter counts");
  if (auto exit = ParseOrExit(flags, args)) return *exit;
  const std::string topic = flags.positional().empty() ? "models" : flags.positional()[0];
  if (topic == "datasets") {
    for (const std::string& name : KnownDatasets()) {
      const std::string dir = DefaultDataDir(name);
      std::printf("%-14s %s\n", name.c_str(),
                  dir.empty() ? "(needs --data-dir)" : ("default: " + dir).c_str());
    }
    return 0;
  }
  if (topic != "models") {
    return Fail("info", absl::InvalidArgumentError("expected 'models' or 'datasets'"));
  }
  std::printf("%-10s %-8s %14s %14s\n", "model", "input", "parameters", "with WS(2)");
  for (const std::string& name : KnownArchitectures()) {
    for (const InputShape& input : {InputShape{1, 28, 28}, InputShape{3, 32, 32}}) {
      ModelSpec spec;
      spec.architecture = *ParseArchitecture(name);
      spec.input = input;
      spec.num_classes = classes;
      auto plain = BuildModel(spec, 0);
      if (!plain.ok()) return Fail("info", plain.status());
      spec.split_gamma = 2;
      auto split = BuildModel(spec, 0);
      const std::string split_count =
          split.ok() ? absl::StrFormat("%d", split->ParameterCount()) : "n/a";
      std::printf("%-10s %-8s %14lld %14s\n", name.c_str(),
                  absl::StrFormat("%dx%dx%d", input.height, input.width, input.channels).c_str(),
                  static_cast<long long>(plain->ParameterCount()), split_count.c_str());
    }
  }
  return 0;
}

}  // namespace biofed
