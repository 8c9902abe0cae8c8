#include "report/study_reader.h"

#include <sqlite3.h>

#include <memory>

#include "absl/strings/str_cat.h"
#include "common/sqlite_records.h"
#include "common/sqlite_statement.h"
#include "common/status_macros.h"

namespace biofed {
namespace {

using Database = std::unique_ptr<sqlite3, int (*)(sqlite3*)>;

absl::StatusOr<Database> Open(const std::string& path) {
  BIOFED_ASSIGN_OR_RETURN(sqlite3* db, OpenSqliteReadOnly(path));
  return Database(db, sqlite3_close);
}

bool HasTable(sqlite3* db, const std::string& name) {
  SqliteStatement s(db, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?");
  s.Bind(name);
  return s.NextRow();
}

// Every row of `sql`, whose first `leading` columns `read_leading` takes and
// whose remaining columns are the record's fields in order.
template <typename Record, typename ReadLeading>
absl::Status ReadRows(sqlite3* db, const std::string& sql, int leading, ReadLeading read_leading) {
  SqliteStatement s(db, sql);
  while (s.NextRow()) {
    Record record;
    BIOFED_RETURN_IF_ERROR(ReadFields(s, leading, &record));
    read_leading(s, std::move(record));
  }
  return s.status();
}

StudyRun* RunOf(FederationStudy& study, int64_t id) {
  for (StudyRun& run : study.runs) {
    if (run.id == id) return &run;
  }
  return nullptr;
}

}  // namespace

absl::StatusOr<bool> IsSweepStudy(const std::string& path) {
  BIOFED_ASSIGN_OR_RETURN(Database db, Open(path));
  return HasTable(db.get(), "sweep_cells");
}

absl::StatusOr<FederationStudy> ReadFederationStudy(const std::string& path) {
  BIOFED_ASSIGN_OR_RETURN(Database db, Open(path));
  if (!HasTable(db.get(), "runs")) return absl::InvalidArgumentError(absl::StrCat(path, " is not a biofed study"));
  FederationStudy study;
  SqliteStatement runs(db.get(), "SELECT id, name, biomod, config_json, code_version, finished FROM runs ORDER BY id");
  while (runs.NextRow()) {
    study.runs.push_back({runs.Int(0), runs.Text(1), runs.Text(2), runs.Text(3), runs.Text(4), runs.Int(5) != 0, {}, {}});
  }
  BIOFED_RETURN_IF_ERROR(runs.status());
  BIOFED_RETURN_IF_ERROR(ReadRows<RoundRow>(
      db.get(), absl::StrCat("SELECT run_id, ", SqlColumnList<RoundRow>(), " FROM rounds ORDER BY run_id, round"), 1,
      [&](const SqliteStatement& s, RoundRow row) {
        if (StudyRun* run = RunOf(study, s.Int(0))) run->rounds.push_back(std::move(row));
      }));
  BIOFED_RETURN_IF_ERROR(ReadRows<ObservedAttack>(
      db.get(),
      absl::StrCat("SELECT run_id, ", SqlColumnList<ObservedAttack>(), " FROM attacks ORDER BY run_id, round, client_id"),
      1, [&](const SqliteStatement& s, ObservedAttack row) {
        if (StudyRun* run = RunOf(study, s.Int(0))) run->attacks.push_back(std::move(row));
      }));
  return study;
}

absl::StatusOr<SweepStudy> ReadSweepStudy(const std::string& path) {
  BIOFED_ASSIGN_OR_RETURN(Database db, Open(path));
  if (!HasTable(db.get(), "sweep_cells")) return absl::InvalidArgumentError(absl::StrCat(path, " is not a sweep study"));
  SweepStudy study;
  SqliteStatement settings(db.get(), "SELECT shared_settings FROM sweep_settings");
  if (settings.NextRow()) study.settings = settings.Text(0);
  BIOFED_RETURN_IF_ERROR(settings.status());
  SqliteStatement invocations(db.get(), "SELECT started_utc, code_version FROM sweep_invocations ORDER BY id");
  while (invocations.NextRow()) study.invocations.push_back({invocations.Text(0), invocations.Text(1)});
  BIOFED_RETURN_IF_ERROR(invocations.status());
  // A study written before a column existed reads it as NULL: the field's default.
  BIOFED_ASSIGN_OR_RETURN(const std::string cell_columns, SqlColumnsOrNull<CellRow>(db.get(), "sweep_cells", "c"));
  BIOFED_ASSIGN_OR_RETURN(const std::string training_columns,
                          SqlColumnsOrNull<TrainingRow>(db.get(), "sweep_trainings", "t"));
  BIOFED_RETURN_IF_ERROR(ReadRows<CellRow>(
      db.get(),
      absl::StrCat("SELECT ", cell_columns,
                   " FROM sweep_cells AS c ORDER BY model, victim, defense, mechanisms, batch_size, seed"),
      0, [&](const SqliteStatement&, CellRow row) { study.cells.push_back(std::move(row)); }));
  BIOFED_RETURN_IF_ERROR(ReadRows<TrainingRow>(
      db.get(),
      absl::StrCat("SELECT ", training_columns, " FROM sweep_trainings AS t ORDER BY model, mechanisms, defense, seed"),
      0, [&](const SqliteStatement&, TrainingRow row) {
        row.model_state.bytes.clear();
        study.trainings.push_back(std::move(row));
      }));
  return study;
}

}  // namespace biofed
