#include "sweep/study_facts.h"

#include <sqlite3.h>

#include <memory>

#include "absl/strings/str_cat.h"
#include "common/sqlite_records.h"
#include "common/sqlite_statement.h"
#include "common/status_macros.h"

namespace biofed {
namespace {

using Database = std::unique_ptr<sqlite3, int (*)(sqlite3*)>;

absl::Status ReadKeys(sqlite3* db, const std::string& table, std::set<std::string>* keys,
                      std::map<std::string, int64_t>* versions) {
  SqliteStatement select(db, absl::StrCat("SELECT key, code_version FROM ", table));
  while (select.NextRow()) {
    keys->insert(select.Text(0));
    ++(*versions)[select.Text(1)];
  }
  return select.status();
}

absl::Status ReadInvocations(sqlite3* db, StudyFacts* facts) {
  BIOFED_ASSIGN_OR_RETURN(const std::string columns, SqlColumnsOrNull<InvocationRow>(db, "sweep_invocations", "i"));
  SqliteStatement select(db, absl::StrCat("SELECT ", columns, " FROM sweep_invocations i ORDER BY i.id"));
  while (select.NextRow()) {
    InvocationRow row;
    BIOFED_RETURN_IF_ERROR(ReadFields(select, 0, &row));
    ++facts->rows_by_code_version[row.code_version];
    facts->invocations.push_back(std::move(row));
  }
  return select.status();
}

absl::Status ReadAll(sqlite3* db, StudyFacts* facts) {
  SqliteStatement settings(db, "SELECT shared_settings FROM sweep_settings WHERE id = 1");
  if (!settings.NextRow()) {
    BIOFED_RETURN_IF_ERROR(settings.status());
    return absl::InvalidArgumentError("it records no settings");
  }
  facts->shared_settings = settings.Text(0);
  BIOFED_RETURN_IF_ERROR(ReadInvocations(db, facts));
  BIOFED_RETURN_IF_ERROR(ReadKeys(db, "sweep_cells", &facts->cells, &facts->rows_by_code_version));
  return ReadKeys(db, "sweep_trainings", &facts->trainings, &facts->rows_by_code_version);
}

}  // namespace

absl::StatusOr<StudyFacts> ReadStudyFacts(const std::string& path) {
  BIOFED_ASSIGN_OR_RETURN(sqlite3 * raw, OpenSqliteReadOnly(path));
  Database db(raw, sqlite3_close);
  StudyFacts facts;
  facts.path = path;
  if (absl::Status s = ReadAll(db.get(), &facts); !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(path, " is not a biofed sweep study: ", s.message()));
  }
  return facts;
}

}  // namespace biofed
