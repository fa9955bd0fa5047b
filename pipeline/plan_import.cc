#include "pipeline/plan_import.h"

#include <algorithm>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "pipeline/csv_reader.h"
#include "pipeline/record_validator.h"

namespace fieldloop::pipeline {
namespace {

// The canonical status for a trimmed `cell`, nullopt when it spells none.
std::optional<std::string> CanonicalStatus(absl::string_view cell) {
  struct Spelling {
    absl::string_view spelling;  // Lower case.
    absl::string_view status;
  };
  static constexpr Spelling kSpellings[] = {{"open", "open"},
                                            {"in_progress", "in_progress"},
                                            {"in progress", "in_progress"},
                                            {"in-progress", "in_progress"},
                                            {"done", "done"},
                                            {"wont_do", "wont_do"},
                                            {"wont do", "wont_do"},
                                            {"won't do", "wont_do"},
                                            {"won\xE2\x80\x99t do", "wont_do"}};
  const std::string lower = absl::AsciiStrToLower(cell);
  for (const Spelling& s : kSpellings) {
    if (lower == s.spelling) return std::string(s.status);
  }
  return std::nullopt;
}

// `cell` without the quote the server puts before a leading = + - or @.
absl::string_view WithoutFormulaGuard(absl::string_view cell) {
  if (cell.size() >= 2 && cell[0] == '\'' &&
      kFormulaLeaders.find(cell[1]) != absl::string_view::npos) {
    cell.remove_prefix(1);
  }
  return cell;
}

bool IsBlank(const CsvRow& row) {
  return std::all_of(row.fields.begin(), row.fields.end(),
                     [](const std::string& f) { return absl::StripAsciiWhitespace(f).empty(); });
}

}  // namespace

absl::StatusOr<ParsedPlan> ParsePlanCsv(absl::string_view csv) {
  CsvTable table = SplitCsv(csv);
  if (!table.status.ok()) return table.status;
  std::vector<CsvRow> rows;
  for (CsvRow& row : table.rows) {
    if (!IsBlank(row)) rows.push_back(std::move(row));
  }
  if (rows.empty()) return absl::InvalidArgumentError("no header row: the file is empty");

  const CsvRow& header = rows[0];
  absl::StatusOr<CsvHeader> columns = IndexHeader(header);
  if (!columns.ok()) return columns.status();
  if (!columns->columns.contains("task_key")) {
    return absl::InvalidArgumentError(
        absl::StrCat("line ", header.line, ": the header has no task_key column (it reads '",
                     absl::StrJoin(header.fields, ","), "')"));
  }

  ParsedPlan plan;
  absl::flat_hash_map<std::string, int> first_line;  // task_key -> line of its first row.
  for (size_t r = 1; r < rows.size(); ++r) {
    const CsvRow& row = rows[r];
    const size_t errors_before = plan.errors.size();
    auto fail = [&](std::string field, std::string message) {
      plan.errors.push_back({row.line, std::move(field), std::move(message)});
    };
    if (row.fields.size() > header.fields.size()) {
      fail("line", absl::StrCat("has ", row.fields.size(), " cells, the header has ",
                                header.fields.size()));
      continue;
    }
    auto cell = [&](absl::string_view name) { return columns->Cell(row, name); };

    PlanEdit edit;
    edit.line = row.line;
    edit.task_key = std::string(cell("task_key"));
    if (edit.task_key.empty()) {
      fail("task_key", "is empty");
    } else if (auto [it, first] = first_line.emplace(edit.task_key, row.line); !first) {
      fail("task_key", absl::StrCat("duplicate of line ", it->second));
    }
    if (absl::string_view status = cell("status"); !status.empty()) {
      edit.status = CanonicalStatus(status);
      if (!edit.status) {
        fail("status", absl::StrCat("'", status,
                                    "' is not a status: use open, in_progress, done or wont_do"));
      }
    }
    if (absl::string_view owner = cell("owner"); !owner.empty()) {
      edit.owner = std::string(WithoutFormulaGuard(owner));
    }
    if (absl::string_view due = cell("due"); !due.empty()) {
      if (IsValidDate(due)) {
        edit.due = std::string(due);
      } else {
        fail("due", absl::StrCat("'", due, "' is not a real date written YYYY-MM-DD"));
      }
    }
    if (plan.errors.size() == errors_before) plan.edits.push_back(std::move(edit));
  }
  return plan;
}

}  // namespace fieldloop::pipeline
