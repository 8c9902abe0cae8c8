// One-line, timestamped log messages on stderr, safe from any thread. Long
// running commands (server, client, simulate) log what they accept, reject
// and decide; `SetLogQuiet(true)` silences informational lines (tests).
#ifndef BIOFED_COMMON_LOG_H_
#define BIOFED_COMMON_LOG_H_

#include <string>

namespace biofed {

enum class LogLevel { kInfo, kWarning, kError };

void Log(LogLevel level, const std::string& component, const std::string& message);
inline void LogInfo(const std::string& component, const std::string& message) {
  Log(LogLevel::kInfo, component, message);
}
inline void LogWarning(const std::string& component, const std::string& message) {
  Log(LogLevel::kWarning, component, message);
}
inline void LogError(const std::string& component, const std::string& message) {
  Log(LogLevel::kError, component, message);
}

// When quiet, only warnings and errors are written.
void SetLogQuiet(bool quiet);

}  // namespace biofed

#endif  // BIOFED_COMMON_LOG_H_
