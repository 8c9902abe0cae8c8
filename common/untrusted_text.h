// Text that came from outside (a client id, a tensor name, a metric key)
// made safe to put in a log line or a status message. Pure functions;
// thread-safe.
#ifndef BIOFED_COMMON_UNTRUSTED_TEXT_H_
#define BIOFED_COMMON_UNTRUSTED_TEXT_H_

#include <cstddef>
#include <string>
#include <string_view>

namespace biofed {

// Enough to recognise a name; short enough that a status message stays far
// below gRPC's 8 KiB metadata limit even with every byte escaped.
constexpr size_t kMaxEscapedBytes = 128;

// `text` with control characters, bytes outside printable ASCII, quotes and
// backslashes C-escaped ("\n", "\x1b", "\'"), so it stays on one line and
// cannot close the quotes it is printed in. Text longer than `max_bytes` is
// cut there and ends in "...(N bytes)", N its original length. The result
// has at most 4 * max_bytes + 32 characters.
std::string EscapedForLog(std::string_view text, size_t max_bytes = kMaxEscapedBytes);

}  // namespace biofed

#endif  // BIOFED_COMMON_UNTRUSTED_TEXT_H_
