// Configuration files in JSON, read the same way everywhere: parse with the
// file named in the error, and apply an object's keys onto a config struct
// through a visitor that binds each key to its field, refusing unknown keys
// and values of the wrong type. Header-only; thread-safe.
#ifndef BIOFED_COMMON_JSON_CONFIG_H_
#define BIOFED_COMMON_JSON_CONFIG_H_

#include <algorithm>
#include <string>
#include <type_traits>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/json_value.h"
#include "common/record_fields.h"

namespace biofed {

// INVALID_ARGUMENT "<source>: not JSON: ..." for malformed text.
inline absl::StatusOr<nlohmann::json> ParseJsonText(const std::string& text, const std::string& source) {
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(source, ": not JSON: ", e.what()));
  }
}

// `visit(target, f)` calls f(key, field) for every key of `target`, or
// f(key, field, codec) for a field kept as text (common/record_fields.h).
// Applies the keys `j` has; `extra_known` are keys the caller handles itself.
// INVALID_ARGUMENT naming `where` and the key for a non-object, an unknown
// key, a value of the wrong type (JsonAs rules) or a word a coded field does
// not know.
template <typename Config, typename VisitAll>
absl::Status ApplyJsonKeys(const nlohmann::json& j, const std::string& where, Config& target, VisitAll visit,
                           const std::vector<std::string>& extra_known = {}) {
  if (!j.is_object()) return absl::InvalidArgumentError(absl::StrCat(where, ": expected a JSON object"));
  std::vector<std::string> known = extra_known;
  visit(target, [&](const char* key, auto&, const auto&...) { known.push_back(key); });
  for (const auto& item : j.items()) {
    if (std::find(known.begin(), known.end(), item.key()) == known.end()) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": unknown key '", item.key(), "'; known: ", absl::StrJoin(known, ", ")));
    }
  }
  absl::Status status;
  visit(target, [&](const char* key, auto& field, const auto&... codec) {
    if (!status.ok() || !j.contains(key)) return;
    try {
      if constexpr (sizeof...(codec) > 0) {
        const absl::Status parsed = ParseFieldText(j.at(key).get<std::string>(), &field, codec...);
        if (!parsed.ok()) status = absl::InvalidArgumentError(absl::StrCat(where, ": ", key, ": ", parsed.message()));
      } else {
        field = JsonAs<std::remove_reference_t<decltype(field)>>(j.at(key));
      }
    } catch (const nlohmann::json::exception& e) {
      status = absl::InvalidArgumentError(absl::StrCat(where, ": key '", key, "' has the wrong type: ", e.what()));
    }
  });
  return status;
}

// Writes every key of `target` into the JSON object `j` (coded fields as
// their text).
template <typename Config, typename VisitAll>
void WriteJsonKeys(Config& target, VisitAll visit, nlohmann::json& j) {
  visit(target, [&](const char* key, const auto& field, const auto&... codec) {
    if constexpr (sizeof...(codec) > 0) {
      j[key] = FieldText(field, codec...);
    } else {
      j[key] = field;
    }
  });
}

}  // namespace biofed

#endif  // BIOFED_COMMON_JSON_CONFIG_H_
