// Command-line flags derived from a field list (common/record_fields.h and
// the configs' visitors): one flag per field, named as the field with '-'
// for '_', showing the field's current value as its default and parsing into
// the field. Strings, integers, doubles, bools (--name, --no-name,
// --name=false), lists (comma separated) and coded fields (their words) are
// supported. Each field's help
// comes from a table keyed by field name; a field without help is a
// programming error (CHECKed when the flags are added). Header-only; not
// thread-safe (as FlagSet).
#ifndef BIOFED_COMMON_FIELD_FLAGS_H_
#define BIOFED_COMMON_FIELD_FLAGS_H_

#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <map>
#include <string>
#include <tuple>
#include <type_traits>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "common/flags.h"
#include "common/json_value.h"
#include "common/record_fields.h"

namespace biofed {

using FlagHelp = std::map<std::string, std::string>;

namespace field_flags_internal {

template <typename T>
std::string DefaultText(const T& value) {
  if constexpr (std::is_same_v<T, bool>) {
    return value ? "true" : "false";
  } else if constexpr (std::is_same_v<T, double>) {
    return absl::StrFormat("%g", value);
  } else if constexpr (IsStdVector<T>::value) {
    std::vector<std::string> items;
    for (const auto& item : value) items.push_back(DefaultText(item));
    return absl::StrJoin(items, ",");
  } else {
    return absl::StrCat(value);
  }
}

template <typename T>
absl::Status ParseText(const std::string& text, T* value) {
  bool ok = true;
  if constexpr (std::is_same_v<T, std::string>) {
    *value = text;
  } else if constexpr (std::is_same_v<T, bool>) {
    ok = absl::SimpleAtob(text, value);
  } else if constexpr (std::is_same_v<T, double>) {
    ok = absl::SimpleAtod(text, value);
  } else if constexpr (std::is_integral_v<T>) {
    ok = absl::SimpleAtoi(text, value);
  } else {
    static_assert(IsStdVector<T>::value, "no flag syntax for this field type");
    value->clear();
    for (absl::string_view item : absl::StrSplit(text, ',', absl::SkipEmpty())) {
      typename T::value_type element{};
      if (absl::Status s = ParseText(std::string(item), &element); !s.ok()) return s;
      value->push_back(std::move(element));
    }
  }
  if (!ok) return absl::InvalidArgumentError(absl::StrCat("cannot read '", text, "'"));
  return absl::OkStatus();
}

}  // namespace field_flags_internal

// Adds a flag for every field `visit(target, v)` names.
template <typename Target, typename Visit>
void AddFieldFlags(FlagSet& flags, Target& target, Visit visit, const FlagHelp& help) {
  visit(target, [&](const char* key, auto& field, const auto&... codec) {
    const auto it = help.find(key);
    if (it == help.end()) {
      std::cerr << "internal error: no help for the flag of field '" << key << "'\n";
      std::abort();
    }
    const std::string name = absl::StrReplaceAll(key, {{"_", "-"}});
    auto* target_field = &field;
    if constexpr (sizeof...(codec) > 0) {
      const auto codecs = std::make_tuple(codec...);
      flags.AddParsed(name, FieldText(field, codec...), it->second, [target_field, codecs](const std::string& v) {
        return ParseFieldText(v, target_field, std::get<0>(codecs));
      });
    } else if constexpr (std::is_same_v<std::decay_t<decltype(field)>, bool>) {
      flags.AddBool(name, target_field, it->second);
    } else {
      flags.AddParsed(name, field_flags_internal::DefaultText(field), it->second, [target_field](const std::string& v) {
        return field_flags_internal::ParseText(v, target_field);
      });
    }
  });
}

}  // namespace biofed

#endif  // BIOFED_COMMON_FIELD_FLAGS_H_
