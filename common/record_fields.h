// Records whose fields are declared once. A record type R declares, in
// namespace biofed,
//
//   template <typename Record, typename Visitor,
//             std::enable_if_t<std::is_same_v<std::decay_t<Record>, R>, int> = 0>
//   void VisitFields(Record& r, Visitor&& v);
//
// calling v(name, field) for every field in order, or v(name, field, codec)
// for a field kept as text: a bool as one of two words (BoolText), an enum by
// its name (EnumText). Record may be const. From that one list come the
// record's SQL columns, its INSERT and the reading of a row
// (common/sqlite_records.h) and its JSON (RecordToJson below; config files
// read keys through ApplyJsonKeys, common/json_config.h). Header-only;
// thread-safe.
#ifndef BIOFED_COMMON_RECORD_FIELDS_H_
#define BIOFED_COMMON_RECORD_FIELDS_H_

#include <cstdint>
#include <string>
#include <type_traits>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"

namespace biofed {

// Bytes stored as a BLOB (an image); left out of JSON.
struct Blob {
  std::string bytes;
};

// A bool kept as one of two words ("known" / "inferred").
struct BoolText {
  const char* if_true;
  const char* if_false;
};

// An enum kept by its name, through the enum's own name and parse functions.
template <typename E>
struct EnumText {
  std::string (*name)(E);
  absl::StatusOr<E> (*parse)(const std::string&);
};

inline std::string FieldText(bool value, const BoolText& codec) { return value ? codec.if_true : codec.if_false; }

template <typename E>
std::string FieldText(E value, const EnumText<E>& codec) {
  return codec.name(value);
}

// INVALID_ARGUMENT naming the accepted words (the caller names the field).
inline absl::Status ParseFieldText(const std::string& text, bool* value, const BoolText& codec) {
  if (text == codec.if_true || text == codec.if_false) {
    *value = text == codec.if_true;
    return absl::OkStatus();
  }
  return absl::InvalidArgumentError(
      absl::StrCat("expected ", codec.if_true, " or ", codec.if_false, ", got '", text, "'"));
}

template <typename E>
absl::Status ParseFieldText(const std::string& text, E* value, const EnumText<E>& codec) {
  absl::StatusOr<E> parsed = codec.parse(text);
  if (!parsed.ok()) return absl::InvalidArgumentError(parsed.status().message());
  *value = *parsed;
  return absl::OkStatus();
}

// The record as a JSON object: every field but blobs, coded fields as text.
template <typename Record>
nlohmann::json RecordToJson(const Record& record) {
  nlohmann::json j = nlohmann::json::object();
  VisitFields(record, [&](const char* name, const auto& field, const auto&... codec) {
    using T = std::decay_t<decltype(field)>;
    if constexpr (sizeof...(codec) > 0) {
      j[name] = FieldText(field, codec...);
    } else if constexpr (!std::is_same_v<T, Blob>) {
      j[name] = field;
    }
  });
  return j;
}

// The names of the record's fields, in order.
template <typename Record>
std::vector<std::string> FieldNames() {
  std::vector<std::string> names;
  Record record{};
  VisitFields(record, [&](const char* name, const auto&, const auto&...) { names.push_back(name); });
  return names;
}

}  // namespace biofed

#endif  // BIOFED_COMMON_RECORD_FIELDS_H_
