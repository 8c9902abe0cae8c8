// The subcommands of the `biofed` executable. Each takes its arguments
// (after the command name) and returns the process exit code; each prints
// its own --help.
#ifndef BIOFED_CLI_COMMANDS_H_
#define BIOFED_CLI_COMMANDS_H_

#include <string>
#include <vector>

namespace biofed {

int RunTrainCommand(const std::vector<std::string>& args);
int RunInfoCommand(const std::vector<std::string>& args);
int RunAttackCommand(const std::vector<std::string>& args);
int RunServerCommand(const std::vector<std::string>& args);
int RunClientCommand(const std::vector<std::string>& args);
int RunSimulateCommand(const std::vector<std::string>& args);
int RunSweepCommand(const std::vector<std::string>& args);
int RunReportCommand(const std::vector<std::string>& args);
int RunStudyCommand(const std::vector<std::string>& args);
int RunAuditCommand(const std::vector<std::string>& args);

}  // namespace biofed

#endif  // BIOFED_CLI_COMMANDS_H_
