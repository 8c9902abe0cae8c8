// Status propagation macros missing from Abseil 20220623 (Debian 12).
// BIOFED_RETURN_IF_ERROR(expr): returns the status of `expr` when it is not OK.
// BIOFED_ASSIGN_OR_RETURN(lhs, expr): evaluates a StatusOr, returns its status
// on error, otherwise moves the value into `lhs`.
#ifndef BIOFED_COMMON_STATUS_MACROS_H_
#define BIOFED_COMMON_STATUS_MACROS_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define BIOFED_CONCAT_INNER_(a, b) a##b
#define BIOFED_CONCAT_(a, b) BIOFED_CONCAT_INNER_(a, b)

// The status variable is named by line, so a nested use (in a lambda of
// `expr`) does not shadow an outer one.
#define BIOFED_RETURN_IF_ERROR(expr) BIOFED_RETURN_IF_ERROR_IMPL_(BIOFED_CONCAT_(biofed_status_, __LINE__), expr)
#define BIOFED_RETURN_IF_ERROR_IMPL_(status, expr) \
  do {                                             \
    const ::absl::Status status = (expr);          \
    if (!status.ok()) return status;               \
  } while (false)

#define BIOFED_ASSIGN_OR_RETURN_IMPL_(statusor, lhs, expr) \
  auto statusor = (expr);                                  \
  if (!statusor.ok()) return statusor.status();            \
  lhs = std::move(statusor).value()

#define BIOFED_ASSIGN_OR_RETURN(lhs, expr) \
  BIOFED_ASSIGN_OR_RETURN_IMPL_(BIOFED_CONCAT_(biofed_statusor_, __LINE__), lhs, expr)

#endif  // BIOFED_COMMON_STATUS_MACROS_H_
