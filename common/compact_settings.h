// The compact "key:value" form of a record's settings, as a sweep's axes
// write them ("ig+attack-lr:0.3", "fl+wr+tau:0.5"): the key is the field's
// name (common/record_fields.h) with '-' for '_', the value its text. Both
// directions derive from the record's one field list. Header-only;
// thread-safe.
#ifndef BIOFED_COMMON_COMPACT_SETTINGS_H_
#define BIOFED_COMMON_COMPACT_SETTINGS_H_

#include <cstdint>
#include <string>
#include <type_traits>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_replace.h"
#include "common/record_fields.h"

namespace biofed {

inline std::string CompactKey(const char* key) { return absl::StrReplaceAll(key, {{"_", "-"}}); }

// A field's value as compact text: numbers shortest ("%g" for doubles), coded
// fields by their words.
template <typename T, typename... Codec>
std::string CompactText(const T& value, const Codec&... codec) {
  if constexpr (sizeof...(codec) > 0) {
    return FieldText(value, codec...);
  } else if constexpr (std::is_same_v<T, double>) {
    return absl::StrFormat("%g", value);
  } else {
    static_assert(std::is_same_v<T, int64_t>, "a setting of an unexpected type");
    return absl::StrCat(value);
  }
}

// Sets `field` from compact text; INVALID_ARGUMENT naming `key` when the
// text is not a value of it.
template <typename T, typename... Codec>
absl::Status ParseCompactText(const std::string& key, const std::string& text, T* field, const Codec&... codec) {
  if constexpr (sizeof...(codec) > 0) {
    const absl::Status status = ParseFieldText(text, field, codec...);
    if (!status.ok()) return absl::InvalidArgumentError(absl::StrCat(key, ": ", status.message()));
    return absl::OkStatus();
  } else {
    bool parsed = false;
    if constexpr (std::is_same_v<T, double>) {
      parsed = absl::SimpleAtod(text, field);
    } else {
      static_assert(std::is_same_v<T, int64_t>, "a setting of an unexpected type");
      parsed = absl::SimpleAtoi(text, field);
    }
    if (!parsed) return absl::InvalidArgumentError(absl::StrCat(key, ": not a number: '", text, "'"));
    return absl::OkStatus();
  }
}

// Sets the field of `record` whose compact key is `key` (visited by `visit`,
// a callable (Record&, visitor) that calls visitor(name, field, codec...) per
// field), skipping names for which `skip(name)` holds. NOT_FOUND when no
// field has the key; INVALID_ARGUMENT when `text` is not a value of it.
template <typename Record, typename Visit, typename Skip>
absl::Status SetCompactField(Record& record, Visit&& visit, const std::string& key, const std::string& text,
                             Skip&& skip) {
  bool found = false;
  absl::Status status;
  visit(record, [&](const char* name, auto& field, const auto&... codec) {
    if (found || CompactKey(name) != key || skip(name)) return;
    found = true;
    status = ParseCompactText(key, text, &field, codec...);
  });
  if (!found) return absl::NotFoundError(absl::StrCat("no setting named '", key, "'"));
  return status;
}

// "+key:value" for every field of `record` whose compact text differs from
// that of the same field of `base` (both visited by `visit`, as above), in
// field order, skipping names for which `skip(name)` holds: a name that says
// only what differs from the defaults.
template <typename Record, typename Visit, typename Skip>
std::string CompactDifferences(const Record& record, const Record& base, Visit&& visit, Skip&& skip) {
  std::vector<std::string> base_text;
  visit(base, [&](const char*, const auto& field, const auto&... codec) {
    base_text.push_back(CompactText(field, codec...));
  });
  std::string out;
  size_t index = 0;
  visit(record, [&](const char* name, const auto& field, const auto&... codec) {
    const size_t i = index++;
    const std::string text = CompactText(field, codec...);
    if (!skip(name) && text != base_text[i]) absl::StrAppend(&out, "+", CompactKey(name), ":", text);
  });
  return out;
}

}  // namespace biofed

#endif  // BIOFED_COMMON_COMPACT_SETTINGS_H_
