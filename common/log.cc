#include "common/log.h"

#include <atomic>
#include <cstdio>
#include <mutex>

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace biofed {
namespace {

std::atomic<bool> quiet{false};
std::mutex log_mutex;

const char* LevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kInfo: return "I";
    case LogLevel::kWarning: return "W";
    case LogLevel::kError: return "E";
  }
  return "?";
}

}  // namespace

void Log(LogLevel level, const std::string& component, const std::string& message) {
  if (level == LogLevel::kInfo && quiet.load(std::memory_order_relaxed)) return;
  const std::string stamp = absl::FormatTime("%H:%M:%E3S", absl::Now(), absl::LocalTimeZone());
  std::lock_guard<std::mutex> lock(log_mutex);
  std::fprintf(stderr, "%s %s [%s] %s\n", LevelName(level), stamp.c_str(), component.c_str(), message.c_str());
  std::fflush(stderr);
}

void SetLogQuiet(bool on) { quiet.store(on, std::memory_order_relaxed); }

}  // namespace biofed
