// The seam between LibTorch exceptions and absl::Status. Library code lets
// c10::Error propagate; module edges call CallTorch so that no exception
// escapes to a caller that expects a Status. Thread-safe (stateless).
#ifndef BIOFED_COMMON_TORCH_STATUS_H_
#define BIOFED_COMMON_TORCH_STATUS_H_

#include <exception>
#include <string>
#include <type_traits>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace biofed {

// Turns the message of a caught exception into an INTERNAL (or, for
// std::invalid_argument-like torch checks, INVALID_ARGUMENT) status prefixed
// with `context`.
absl::Status StatusFromException(const std::exception& e, const std::string& context);

template <typename T>
struct IsStatusOr : std::false_type {};
template <typename T>
struct IsStatusOr<absl::StatusOr<T>> : std::true_type {};

// Runs `fn` and converts any exception into a status. `fn` returns either
// absl::Status, absl::StatusOr<T>, void, or a plain value T (then the result
// is absl::StatusOr<T>).
template <typename Fn>
auto CallTorch(const std::string& context, Fn&& fn) {
  using R = std::invoke_result_t<Fn>;
  if constexpr (std::is_void_v<R>) {
    try {
      fn();
      return absl::OkStatus();
    } catch (const std::exception& e) {
      return StatusFromException(e, context);
    }
  } else if constexpr (std::is_same_v<R, absl::Status>) {
    try {
      return fn();
    } catch (const std::exception& e) {
      return StatusFromException(e, context);
    }
  } else {
    using Out = std::conditional_t<IsStatusOr<R>::value, R, absl::StatusOr<R>>;
    try {
      return Out(fn());
    } catch (const std::exception& e) {
      return Out(StatusFromException(e, context));
    }
  }
}

}  // namespace biofed

#endif  // BIOFED_COMMON_TORCH_STATUS_H_
