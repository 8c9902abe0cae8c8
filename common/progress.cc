#include "common/progress.h"

#include <unistd.h>

#include <cstdio>
#include <utility>

namespace biofed {

ProgressBar::ProgressBar(std::string label, int64_t total, int64_t quiet_every)
    : label_(std::move(label)),
      total_(total),
      quiet_every_(quiet_every),
      is_terminal_(isatty(fileno(stderr)) != 0),
      start_(std::chrono::steady_clock::now()),
      last_draw_(start_) {}

ProgressBar::~ProgressBar() {
  if (!finished_ && is_terminal_) std::fputc('\n', stderr);
}

void ProgressBar::Update(int64_t done, const std::string& status) {
  done_ = done;
  const auto now = std::chrono::steady_clock::now();
  if (is_terminal_) {
    if (now - last_draw_ < std::chrono::milliseconds(100) && done_ < total_) return;
    last_draw_ = now;
    Draw(status);
  } else if (quiet_every_ > 0 && done_ % quiet_every_ == 0) {
    Draw(status);
  }
}

void ProgressBar::Finish(const std::string& status) {
  if (finished_) return;
  finished_ = true;
  if (is_terminal_ || quiet_every_ > 0) {
    Draw(status);
    if (is_terminal_) std::fputc('\n', stderr);
  }
}

void ProgressBar::Draw(const std::string& status) {
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const double fraction = total_ > 0 ? static_cast<double>(done_) / total_ : 1.0;
  if (is_terminal_) {
    constexpr int kWidth = 30;
    const int filled = static_cast<int>(fraction * kWidth);
    std::string bar(filled, '#');
    bar.append(kWidth - filled, '.');
    std::fprintf(stderr, "\r\033[K%s [%s] %lld/%lld %.0fs %s", label_.c_str(), bar.c_str(),
                 static_cast<long long>(done_), static_cast<long long>(total_), seconds,
                 status.c_str());
  } else {
    std::fprintf(stderr, "%s %lld/%lld %.0fs %s\n", label_.c_str(),
                 static_cast<long long>(done_), static_cast<long long>(total_), seconds,
                 status.c_str());
  }
  std::fflush(stderr);
}

}  // namespace biofed
