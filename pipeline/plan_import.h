// Plan import: reads back a content refresh plan CSV (pipeline/refresh_plan.h) after people
// edited it in a spreadsheet, keeping only what they may change: status, owner and due, per
// task_key. Pure: parses text given to it; never opens files.
#ifndef FIELDLOOP_PIPELINE_PLAN_IMPORT_H_
#define FIELDLOOP_PIPELINE_PLAN_IMPORT_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace fieldloop::pipeline {

// One accepted row of an edited plan. A field is nullopt when its column is absent or its
// cell is empty (after trimming): "not given", so the server keeps what it has.
struct PlanEdit {
  int line = 0;          // 1-based line where the row starts.
  std::string task_key;  // Trimmed; never empty.
  // One of open, in_progress, done, wont_do.
  std::optional<std::string> status;
  // Trimmed, with one neutralizing quote removed (see ParsePlanCsv).
  std::optional<std::string> owner;
  // A real calendar date written YYYY-MM-DD.
  std::optional<std::string> due;
};

// Why a row was rejected. A row may have several.
struct PlanImportError {
  int line = 0;       // 1-based line where the row starts.
  std::string field;  // task_key, status or due; "line" for the row as a whole.
  std::string message;
};

struct ParsedPlan {
  std::vector<PlanEdit> edits;          // In file order.
  std::vector<PlanImportError> errors;  // In file order.
};

// Parses an edited refresh plan CSV (RFC 4180 as pipeline/csv_reader.h reads it: a leading
// UTF-8 BOM, CRLF or LF, quoted cells). The first non-blank row is the header; columns are
// found by name (trimmed, case-insensitive), in any order. Only task_key is required; status,
// owner and due are read when present; every other column is ignored. Blank header cells are
// ignored.
//
// Per row, all or nothing: a row with any error adds no edit, only errors, and never stops
// the other rows. The rules:
// - Blank lines, and rows whose cells are all empty (spreadsheets export empty rows as
//   ",,,"), are skipped.
// - More cells than the header: error "line"; the row's cells are not read. Fewer cells
//   than the header: the missing cells are empty.
// - task_key: empty is an error. A key already named on an earlier row (even one rejected
//   for another reason, but not one with too many cells) is an error "duplicate of line N"
//   on the later row: the first row wins.
// - status: trimmed and case-insensitive; open; in_progress, "in progress", in-progress;
//   done; wont_do, "wont do", "won't do", "won’t do" (U+2019). Anything else is an error.
// - owner: trimmed. A single quote in front of = + - or @ is the usual guard that keeps a
//   spreadsheet from reading a cell as a formula ('=x); one such quote is removed, so "'=x"
//   reads as "=x". A quote followed by anything else is kept ("'x", "O'Brien"). The plan
//   writer, RenderRefreshPlanCsv, adds this guard.
// - due: YYYY-MM-DD and a real date from 1970 on (IsValidDate; 2026-02-30 is an error).
//
// Returns InvalidArgument, naming the problem, when the file as a whole is unusable: no
// header row, no task_key column, a column name appearing twice, or an unterminated quoted
// cell.
absl::StatusOr<ParsedPlan> ParsePlanCsv(absl::string_view csv);

}  // namespace fieldloop::pipeline

#endif  // FIELDLOOP_PIPELINE_PLAN_IMPORT_H_
