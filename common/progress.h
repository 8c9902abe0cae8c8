// A progress line for long work: a bar on stderr when stderr is a terminal,
// otherwise a plain line every `quiet_every` updates (and at the end) so logs
// stay readable. Not thread-safe: one owner updates it.
#ifndef BIOFED_COMMON_PROGRESS_H_
#define BIOFED_COMMON_PROGRESS_H_

#include <chrono>
#include <cstdint>
#include <string>

namespace biofed {

class ProgressBar {
 public:
  ProgressBar(std::string label, int64_t total, int64_t quiet_every = 0);
  ~ProgressBar();

  // Sets the count done and a free-form status text (for example the loss).
  void Update(int64_t done, const std::string& status = "");
  // Ends the line.
  void Finish(const std::string& status = "");

 private:
  void Draw(const std::string& status);

  std::string label_;
  int64_t total_;
  int64_t quiet_every_;
  int64_t done_ = 0;
  bool is_terminal_;
  bool finished_ = false;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_draw_;
};

}  // namespace biofed

#endif  // BIOFED_COMMON_PROGRESS_H_
