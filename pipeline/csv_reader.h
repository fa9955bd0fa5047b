// CsvTable: splits CSV text (RFC 4180) into rows of unquoted cells, and CsvHeader finds
// cells by column name. Pure: parses text given to it; never opens files. Knows nothing of
// column meanings.
#ifndef FIELDLOOP_PIPELINE_CSV_READER_H_
#define FIELDLOOP_PIPELINE_CSV_READER_H_

#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace fieldloop::pipeline {

// First characters that make a spreadsheet run a cell as a formula. A CSV writer puts a
// single quote in front of such a cell; a reader of edited files removes that quote.
inline constexpr absl::string_view kFormulaLeaders = "=+-@\t\r";

// One row of a CSV file.
struct CsvRow {
  int line = 0;                     // 1-based line where the row starts.
  std::vector<std::string> fields;  // Unquoted cells in file order; never empty.
};

// The rows of a CSV file and whether its quotes balanced.
struct CsvTable {
  std::vector<CsvRow> rows;
  // OK, or InvalidArgument "line N: unterminated quoted field" when a quoted cell is still
  // open at the end of the text (N is the line where that row starts). The rows read up to
  // that point, including the unterminated one, are still in `rows`.
  absl::Status status;
};

// Splits `text` into rows. The contract:
// - A leading UTF-8 byte order mark (EF BB BF) is dropped; spreadsheets write one.
// - Rows end at LF or CRLF; the last row needs no line end. A lone CR is cell data.
// - A cell that starts with '"' is quoted: it runs to the next lone '"', and may hold commas,
//   CR and LF; '""' inside it stands for one '"'. Text after the closing quote is appended
//   to the cell. A '"' that does not start a cell is ordinary data.
// - Cells are not trimmed: spaces around them are kept.
// - A row whose only cell is empty or whitespace (a blank line, or "") is skipped, but the
//   lines it spans still count. A row of empty cells (",,") is not blank and is kept.
// - `line` of each row is the line it starts on, counting every LF (also those inside quoted
//   cells), so a row after a multi-line cell carries its true line number.
CsvTable SplitCsv(absl::string_view text);

// A header row: columns by name (trimmed, lower-cased; blank names are not indexed).
struct CsvHeader {
  int line = 0;                                      // Line of the header row.
  absl::flat_hash_map<std::string, size_t> columns;  // Name -> cell index.

  // The cell of `row` under column `name`, trimmed; "" when there is no such column or the
  // row is shorter.
  absl::string_view Cell(const CsvRow& row, absl::string_view name) const;
};

// The trimmed, lower-cased form of a header cell.
std::string ColumnName(absl::string_view cell);

// Indexes `row` as a header. InvalidArgument "line N: column 'x' appears twice" when a
// (non-blank) name repeats.
absl::StatusOr<CsvHeader> IndexHeader(const CsvRow& row);

}  // namespace fieldloop::pipeline

#endif  // FIELDLOOP_PIPELINE_CSV_READER_H_
