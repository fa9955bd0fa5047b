#include "pipeline/csv_reader.h"

#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace fieldloop::pipeline {

CsvTable SplitCsv(absl::string_view text) {
  absl::ConsumePrefix(&text, "\xEF\xBB\xBF");
  CsvTable table;
  CsvRow row{1, {}};
  std::string field;
  bool in_quotes = false, field_started = false;
  int line = 1;
  auto end_field = [&] {
    row.fields.push_back(std::move(field));
    field.clear();
    field_started = false;
  };
  auto end_row = [&] {
    end_field();
    const bool blank = row.fields.size() == 1 && absl::StripAsciiWhitespace(row.fields[0]).empty();
    if (!blank) table.rows.push_back(std::move(row));
    row = CsvRow{line, {}};
  };
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_quotes) {
      if (c == '"') {
        if (i + 1 < text.size() && text[i + 1] == '"') {
          field.push_back('"');
          ++i;
        } else {
          in_quotes = false;
        }
      } else {
        if (c == '\n') ++line;
        field.push_back(c);
      }
      continue;
    }
    if (c == '"' && !field_started) {
      in_quotes = true;
      field_started = true;
    } else if (c == ',') {
      end_field();
    } else if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') {
      continue;
    } else if (c == '\n') {
      ++line;
      end_row();
    } else {
      field.push_back(c);
      field_started = true;
    }
  }
  if (in_quotes) {
    table.status =
        absl::InvalidArgumentError(absl::StrCat("line ", row.line, ": unterminated quoted field"));
  }
  if (!field.empty() || !row.fields.empty()) end_row();
  return table;
}

std::string ColumnName(absl::string_view cell) {
  return absl::AsciiStrToLower(absl::StripAsciiWhitespace(cell));
}

absl::StatusOr<CsvHeader> IndexHeader(const CsvRow& row) {
  CsvHeader header;
  header.line = row.line;
  for (size_t i = 0; i < row.fields.size(); ++i) {
    std::string name = ColumnName(row.fields[i]);
    if (name.empty()) continue;
    if (!header.columns.emplace(name, i).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("line ", row.line, ": column '", name, "' appears twice"));
    }
  }
  return header;
}

absl::string_view CsvHeader::Cell(const CsvRow& row, absl::string_view name) const {
  auto it = columns.find(name);
  if (it == columns.end() || it->second >= row.fields.size()) return {};
  return absl::StripAsciiWhitespace(row.fields[it->second]);
}

}  // namespace fieldloop::pipeline
