#include "common/sqlite_statement.h"

#include <sqlite3.h>

#include <filesystem>

#include "absl/strings/str_cat.h"

namespace biofed {

absl::StatusOr<sqlite3*> OpenSqliteDatabase(const std::string& path) {
  sqlite3* db = nullptr;
  if (sqlite3_open(path.c_str(), &db) != SQLITE_OK) {
    const std::string why = db ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close(db);
    return absl::InternalError(absl::StrCat("cannot open results database ", path, ": ", why));
  }
  sqlite3_busy_timeout(db, 10000);
  if (auto s = SqliteExec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"); !s.ok()) {
    sqlite3_close(db);
    return absl::InternalError(absl::StrCat(path, ": ", s.message()));
  }
  return db;
}

absl::StatusOr<sqlite3*> OpenSqliteReadOnly(const std::string& path) {
  if (!std::filesystem::exists(path)) return absl::NotFoundError(absl::StrCat("no study at ", path));
  // Read-write without create, every statement refused but queries
  // (query_only): a SQLITE_OPEN_READONLY connection to a WAL database makes
  // its -wal and -shm files and, being read-only, cannot remove them when it
  // closes. Read-only for real where the file is not writable.
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK) {
    sqlite3_close(db);
    db = nullptr;
    if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
      const std::string why = db ? sqlite3_errmsg(db) : "out of memory";
      sqlite3_close(db);
      return absl::InvalidArgumentError(absl::StrCat("cannot open ", path, ": ", why));
    }
  }
  sqlite3_busy_timeout(db, 10000);
  if (auto s = SqliteExec(db, "PRAGMA query_only = 1;"); !s.ok()) {
    sqlite3_close(db);
    return absl::InvalidArgumentError(absl::StrCat("cannot open ", path, ": ", s.message()));
  }
  return db;
}

absl::Status SqliteExec(sqlite3* db, const std::string& sql) {
  char* error = nullptr;
  if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error) != SQLITE_OK) {
    const std::string why = error ? error : "unknown error";
    sqlite3_free(error);
    return absl::InternalError(absl::StrCat("sqlite: ", why));
  }
  return absl::OkStatus();
}

SqliteStatement::SqliteStatement(sqlite3* db, const char* sql) : db_(db) {
  ok_ = sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr) == SQLITE_OK;
}

SqliteStatement::~SqliteStatement() { sqlite3_finalize(stmt_); }

SqliteStatement& SqliteStatement::Bind(int64_t v) {
  sqlite3_bind_int64(stmt_, ++index_, v);
  return *this;
}

SqliteStatement& SqliteStatement::Bind(double v) {
  sqlite3_bind_double(stmt_, ++index_, v);
  return *this;
}

SqliteStatement& SqliteStatement::Bind(const std::string& v) {
  sqlite3_bind_text(stmt_, ++index_, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
  return *this;
}

SqliteStatement& SqliteStatement::BindBlob(const std::string& v) {
  sqlite3_bind_blob(stmt_, ++index_, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
  return *this;
}

absl::Status SqliteStatement::Step() {
  if (!ok_ || sqlite3_step(stmt_) != SQLITE_DONE) return absl::InternalError(absl::StrCat("sqlite: ", sqlite3_errmsg(db_)));
  return absl::OkStatus();
}

bool SqliteStatement::NextRow() {
  if (!ok_) return false;
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc != SQLITE_DONE) ok_ = false;
  return false;
}

absl::Status SqliteStatement::status() const {
  return ok_ ? absl::OkStatus() : absl::InternalError(absl::StrCat("sqlite: ", sqlite3_errmsg(db_)));
}

bool SqliteStatement::IsNull(int column) const { return sqlite3_column_type(stmt_, column) == SQLITE_NULL; }

int64_t SqliteStatement::Int(int column) const { return sqlite3_column_int64(stmt_, column); }

double SqliteStatement::Double(int column) const { return sqlite3_column_double(stmt_, column); }

std::string SqliteStatement::Text(int column) const {
  const unsigned char* t = sqlite3_column_text(stmt_, column);
  return t ? reinterpret_cast<const char*>(t) : "";
}

std::string SqliteStatement::Blob(int column) const {
  const void* blob = sqlite3_column_blob(stmt_, column);
  return blob ? std::string(static_cast<const char*>(blob), sqlite3_column_bytes(stmt_, column)) : std::string();
}

}  // namespace biofed
