// Helpers shared by the command implementations: parsing flags with --help,
// printing a failed status, and JSON conversion of common results.
#ifndef BIOFED_CLI_CLI_UTIL_H_
#define BIOFED_CLI_CLI_UTIL_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/flags.h"

namespace biofed {

// Parses; prints usage and returns 0 on --help, prints the error and
// returns 2 on bad flags, returns nullopt to go on.
std::optional<int> ParseOrExit(FlagSet& flags, const std::vector<std::string>& args);

// "1,5,30" -> {1, 5, 30}; empty -> {}. INVALID_ARGUMENT naming `flag`.
absl::StatusOr<std::vector<int64_t>> ParseIntList(const std::string& flag, const std::string& text);

// Prints "biofed <command>: <message>" and returns 1.
int Fail(const std::string& command, const absl::Status& status);

}  // namespace biofed

#endif  // BIOFED_CLI_CLI_UTIL_H_
