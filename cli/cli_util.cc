#include "cli/cli_util.h"

#include <cstdio>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

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

absl::StatusOr<std::vector<int64_t>> ParseIntList(const std::string& flag, const std::string& text) {
  std::vector<int64_t> values;
  for (absl::string_view item : absl::StrSplit(text, ',', absl::SkipEmpty())) {
    int64_t value = 0;
    if (!absl::SimpleAtoi(item, &value)) {
      return absl::InvalidArgumentError(absl::StrCat("--", flag, ": '", item, "' is not a number"));
    }
    values.push_back(value);
  }
  return values;
}

int Fail(const std::string& command, const absl::Status& status) {
  std::fprintf(stderr, "biofed %s: %s\n", command.c_str(), std::string(status.message()).c_str());
  return 1;
}

}  // namespace biofed
