// SQL derived from records declared once (common/record_fields.h): a
// table's column definitions, the column list of an INSERT or SELECT,
// binding a record to a statement and reading one back, and the columns a
// table made by older code lacks (added, so older studies stay usable).
// Storage: int64 and bool as INTEGER, double as REAL, string and coded
// fields as TEXT, Blob as BLOB. Header-only; not thread-safe (callers
// serialise use of one connection, as with SqliteStatement).
#ifndef BIOFED_COMMON_SQLITE_RECORDS_H_
#define BIOFED_COMMON_SQLITE_RECORDS_H_

#include <set>
#include <string>
#include <type_traits>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/record_fields.h"
#include "common/sqlite_statement.h"

struct sqlite3;

namespace biofed {

template <typename T, typename... Codec>
const char* SqlType() {
  if constexpr (sizeof...(Codec) > 0 || std::is_same_v<T, std::string>) {
    return "TEXT";
  } else if constexpr (std::is_same_v<T, double>) {
    return "REAL";
  } else if constexpr (std::is_same_v<T, Blob>) {
    return "BLOB";
  } else {
    static_assert(std::is_same_v<T, int64_t> || std::is_same_v<T, bool>, "no SQL type for this field");
    return "INTEGER";
  }
}

// "round INTEGER, client_id TEXT, ..." for CREATE TABLE.
template <typename Record>
std::string SqlColumnDefinitions() {
  std::vector<std::string> columns;
  Record record{};
  VisitFields(record, [&](const char* name, const auto& field, const auto&... codec) {
    columns.push_back(absl::StrCat(name, " ", SqlType<std::decay_t<decltype(field)>, std::decay_t<decltype(codec)>...>()));
  });
  return absl::StrJoin(columns, ", ");
}

// "round, client_id, ..." for a SELECT whose row ReadFields reads.
template <typename Record>
std::string SqlColumnList() {
  return absl::StrJoin(FieldNames<Record>(), ", ");
}

// "INSERT OR REPLACE INTO table (leading..., fields...) VALUES (?, ...)":
// the caller binds the leading columns first, then BindFields.
template <typename Record>
std::string SqlInsertOrReplace(const std::string& table, const std::vector<std::string>& leading = {}) {
  std::vector<std::string> columns = leading;
  for (std::string& name : FieldNames<Record>()) columns.push_back(std::move(name));
  const std::vector<std::string> marks(columns.size(), "?");
  return absl::StrCat("INSERT OR REPLACE INTO ", table, " (", absl::StrJoin(columns, ", "), ") VALUES (",
                      absl::StrJoin(marks, ", "), ")");
}

// Binds every field of `record`, in order, after whatever is bound already.
template <typename Record>
SqliteStatement& BindFields(SqliteStatement& statement, const Record& record) {
  VisitFields(record, [&](const char*, const auto& field, const auto&... codec) {
    using T = std::decay_t<decltype(field)>;
    if constexpr (sizeof...(codec) > 0) {
      statement.Bind(FieldText(field, codec...));
    } else if constexpr (std::is_same_v<T, Blob>) {
      statement.BindBlob(field.bytes);
    } else if constexpr (std::is_same_v<T, bool>) {
      statement.Bind(static_cast<int64_t>(field));
    } else {
      statement.Bind(field);
    }
  });
  return statement;
}

// Reads the record from the current row, its fields starting at column
// `first` in declaration order. A NULL (a column added after the row was
// written) leaves the field as it is: the record's default. INVALID_ARGUMENT
// for a coded field whose text is not one of its words.
template <typename Record>
absl::Status ReadFields(const SqliteStatement& row, int first, Record* record) {
  absl::Status status;
  int column = first;
  VisitFields(*record, [&](const char* name, auto& field, const auto&... codec) {
    using T = std::decay_t<decltype(field)>;
    const int c = column++;
    if (row.IsNull(c)) return;
    if constexpr (sizeof...(codec) > 0) {
      absl::Status s = ParseFieldText(row.Text(c), &field, codec...);
      if (!s.ok() && status.ok()) status = absl::InvalidArgumentError(absl::StrCat("column ", name, ": ", s.message()));
    } else if constexpr (std::is_same_v<T, Blob>) {
      field.bytes = row.Blob(c);
    } else if constexpr (std::is_same_v<T, std::string>) {
      field = row.Text(c);
    } else if constexpr (std::is_same_v<T, double>) {
      field = row.Double(c);
    } else if constexpr (std::is_same_v<T, bool>) {
      field = row.Int(c) != 0;
    } else {
      field = row.Int(c);
    }
  });
  return status;
}

// Adds to `table` every column of Record it lacks (ALTER TABLE ... ADD
// COLUMN); INTERNAL with SQLite's message on failure.
template <typename Record>
absl::Status AddMissingColumns(sqlite3* db, const std::string& table) {
  std::set<std::string> present;
  SqliteStatement info(db, absl::StrCat("PRAGMA table_info(", table, ")").c_str());
  while (info.NextRow()) present.insert(info.Text(1));
  if (absl::Status s = info.status(); !s.ok()) return s;
  absl::Status status;
  Record record{};
  VisitFields(record, [&](const char* name, const auto& field, const auto&... codec) {
    if (!status.ok() || present.count(name)) return;
    status = SqliteExec(db, absl::StrCat("ALTER TABLE ", table, " ADD COLUMN ", name, " ",
                                         SqlType<std::decay_t<decltype(field)>, std::decay_t<decltype(codec)>...>()));
  });
  return status;
}

// The SELECT list that reads Record from `table` (may be qualified by its
// schema, "other.t") under the alias `alias`, in declaration order, for
// ReadFields: a column the table lacks (made by older code, and not to be
// altered) reads as NULL. INVALID_ARGUMENT when there is no such table.
template <typename Record>
absl::StatusOr<std::string> SqlColumnsOrNull(sqlite3* db, const std::string& table, const std::string& alias) {
  const size_t dot = table.find('.');
  const std::string pragma = dot == std::string::npos
                                 ? absl::StrCat("PRAGMA table_info(", table, ")")
                                 : absl::StrCat("PRAGMA ", table.substr(0, dot), ".table_info(", table.substr(dot + 1), ")");
  std::set<std::string> present;
  SqliteStatement info(db, pragma.c_str());
  while (info.NextRow()) present.insert(info.Text(1));
  if (absl::Status s = info.status(); !s.ok()) return s;
  if (present.empty()) return absl::InvalidArgumentError(absl::StrCat("there is no table ", table));
  std::vector<std::string> columns;
  for (const std::string& name : FieldNames<Record>()) {
    columns.push_back(present.count(name) ? absl::StrCat(alias, ".", name) : absl::StrCat("NULL AS ", name));
  }
  return absl::StrJoin(columns, ", ");
}

}  // namespace biofed

#endif  // BIOFED_COMMON_SQLITE_RECORDS_H_
