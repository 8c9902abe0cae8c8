#include "common/torch_status.h"

#include <c10/util/Exception.h>

#include "absl/strings/str_cat.h"

namespace biofed {

absl::Status StatusFromException(const std::exception& e, const std::string& context) {
  // c10::Error::what() carries a C++ backtrace; what_without_backtrace() is
  // the message a user can act on.
  std::string message;
  if (const auto* torch_error = dynamic_cast<const c10::Error*>(&e)) {
    message = torch_error->what_without_backtrace();
  } else {
    message = e.what();
  }
  if (dynamic_cast<const c10::IndexError*>(&e) != nullptr ||
      dynamic_cast<const c10::ValueError*>(&e) != nullptr ||
      dynamic_cast<const c10::TypeError*>(&e) != nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(context, ": ", message));
  }
  return absl::InternalError(absl::StrCat(context, ": ", message));
}

}  // namespace biofed
