// File helpers: whole-file reads and atomic writes (write to a temporary in
// the same directory, fsync, rename), so a crash never leaves a half-written
// result. Thread-safe for distinct paths.
#ifndef BIOFED_COMMON_FILES_H_
#define BIOFED_COMMON_FILES_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace biofed {

// Returns the bytes of `path`, or NOT_FOUND / INTERNAL naming the file.
absl::StatusOr<std::string> ReadFile(const std::string& path);

// Replaces `path` with `contents` atomically. Creates parent directories.
absl::Status WriteFileAtomically(const std::string& path, const std::string& contents);

// Creates `dir` and its parents if missing.
absl::Status MakeDirectories(const std::string& dir);

}  // namespace biofed

#endif  // BIOFED_COMMON_FILES_H_
