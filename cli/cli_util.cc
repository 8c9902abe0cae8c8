#include "cli/cli_util.h"

#include <cstdio>

namespace biofed {

std::optional<int> ParseOrExit(FlagSet& flags, const std::vector<std::string>& args) {
  const absl::Status status = flags.Parse(args);
  if (flags.help_requested()) {
    std::fputs(flags.Usage().c_str(), stdout);
    return 0;
  }
  if (!status.ok()) {
    std::fprintf(stderr, "biofed: %s\n", std::string(status.message()).c_str());
    return 2;
  }
  return std::nullopt;
}

int Fail(const std::string& command, const absl::Status& status) {
  std::fprintf(stderr, "biofed %s: %s\n", command.c_str(), std::string(status.message()).c_str());
  return 1;
}

}  // namespace biofed
