#include "common/untrusted_text.h"

#include <algorithm>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace biofed {

std::string EscapedForLog(std::string_view text, size_t max_bytes) {
  const size_t kept = std::min(text.size(), max_bytes);
  std::string escaped = absl::CHexEscape(absl::string_view(text.data(), kept));
  if (kept < text.size()) absl::StrAppend(&escaped, "...(", text.size(), " bytes)");
  return escaped;
}

}  // namespace biofed
