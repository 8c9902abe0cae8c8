// GoogleTest matchers for absl::Status / StatusOr (Abseil 20220623 ships none).
#ifndef BIOFED_TESTS_TESTING_STATUS_MATCHERS_H_
#define BIOFED_TESTS_TESTING_STATUS_MATCHERS_H_

#include <string>

#include <gmock/gmock.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace biofed::testing {

inline const absl::Status& GetStatus(const absl::Status& s) { return s; }
template <typename T>
const absl::Status& GetStatus(const absl::StatusOr<T>& s) {
  return s.status();
}

MATCHER(IsOk, "is OK") {
  const absl::Status& s = GetStatus(arg);
  if (!s.ok()) *result_listener << "status: " << s.ToString();
  return s.ok();
}

// Matches a status with `code` whose message contains `substring`.
MATCHER_P2(StatusIs, code, substring,
           "has code " + absl::StatusCodeToString(code) + " and a message containing '" +
               std::string(substring) + "'") {
  const absl::Status& s = GetStatus(arg);
  *result_listener << "status: " << s.ToString();
  return s.code() == code && std::string(s.message()).find(substring) != std::string::npos;
}

}  // namespace biofed::testing

#endif  // BIOFED_TESTS_TESTING_STATUS_MATCHERS_H_
