// Small SQLite helpers shared by the results stores: opening a database in
// WAL mode (so a killed writer leaves complete transactions only), running
// a script, and a prepared statement bound by position. Not thread-safe:
// callers serialise use of one connection.
#ifndef BIOFED_COMMON_SQLITE_STATEMENT_H_
#define BIOFED_COMMON_SQLITE_STATEMENT_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"

struct sqlite3;
struct sqlite3_stmt;

namespace biofed {

// Opens or creates `path` with journal_mode=WAL, synchronous=NORMAL and a
// 10 s busy timeout. INTERNAL naming the file on error.
absl::StatusOr<sqlite3*> OpenSqliteDatabase(const std::string& path);

// Opens an existing database for queries only (no statement can change
// it), leaving no -wal or -shm file behind when closed; NOT_FOUND when there
// is none, INVALID_ARGUMENT when it cannot be read.
absl::StatusOr<sqlite3*> OpenSqliteReadOnly(const std::string& path);
// Runs a script of statements; INTERNAL with SQLite's message on error.
absl::Status SqliteExec(sqlite3* db, const std::string& sql);

class SqliteStatement {
 public:
  SqliteStatement(sqlite3* db, const char* sql);
  SqliteStatement(sqlite3* db, const std::string& sql) : SqliteStatement(db, sql.c_str()) {}
  ~SqliteStatement();
  SqliteStatement(const SqliteStatement&) = delete;
  SqliteStatement& operator=(const SqliteStatement&) = delete;

  SqliteStatement& Bind(int64_t value);
  SqliteStatement& Bind(double value);
  SqliteStatement& Bind(const std::string& value);
  SqliteStatement& BindBlob(const std::string& value);
  // Runs a statement that returns no rows.
  absl::Status Step();
  // Steps once; true while a row is available (false at the end or on error,
  // see status()).
  bool NextRow();
  absl::Status status() const;
  bool IsNull(int column) const;
  int64_t Int(int column) const;
  double Double(int column) const;
  std::string Text(int column) const;
  std::string Blob(int column) const;

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
  bool ok_ = false;
  int index_ = 0;
};

}  // namespace biofed

#endif  // BIOFED_COMMON_SQLITE_STATEMENT_H_
