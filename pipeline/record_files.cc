#include "pipeline/record_files.h"

#include <algorithm>
#include <map>
#include <optional>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "google/protobuf/util/json_util.h"
#include "pipeline/csv_reader.h"

namespace fieldloop::pipeline {
namespace {

using fieldloop::v1::IngestRequest;

absl::string_view FirstNonBlankLine(absl::string_view contents) {
  for (absl::string_view line : absl::StrSplit(contents, '\n')) {
    absl::string_view t = absl::StripAsciiWhitespace(line);
    if (!t.empty()) return t;
  }
  return {};
}

struct Column {
  const char* name;
  bool required;
};

constexpr Column kInventoryColumns[] = {{"asset_id", true}, {"title", true},        {"type", true},
                                        {"owner", true},    {"last_updated", true}, {"tags", true},
                                        {"url", false}};
constexpr Column kMetricsColumns[] = {{"cohort", true},         {"region", true},
                                      {"segment", true},        {"reps", true},
                                      {"ramp_days", true},      {"ramp_target_days", true},
                                      {"cert_pass_rate", true}, {"call_quality", true},
                                      {"rep_id", false},        {"period", false}};

}  // namespace

std::optional<fieldloop::v1::AssetType> AssetTypeFromName(absl::string_view s) {
  static const std::map<std::string, fieldloop::v1::AssetType, std::less<>> kTypes = {
      {"deck", fieldloop::v1::ASSET_TYPE_DECK},
      {"battlecard", fieldloop::v1::ASSET_TYPE_BATTLECARD},
      {"one-pager", fieldloop::v1::ASSET_TYPE_ONE_PAGER},
      {"one_pager", fieldloop::v1::ASSET_TYPE_ONE_PAGER},
      {"play", fieldloop::v1::ASSET_TYPE_PLAY},
      {"snippet", fieldloop::v1::ASSET_TYPE_SNIPPET},
      {"video", fieldloop::v1::ASSET_TYPE_VIDEO},
      {"module", fieldloop::v1::ASSET_TYPE_MODULE},
      {"other", fieldloop::v1::ASSET_TYPE_OTHER}};
  auto it = kTypes.find(absl::AsciiStrToLower(absl::StripAsciiWhitespace(s)));
  if (it == kTypes.end()) return std::nullopt;
  return it->second;
}

namespace {

absl::Status NeedInitiative(absl::string_view initiative) {
  if (!initiative.empty()) return absl::OkStatus();
  return absl::InvalidArgumentError("CSV files carry no initiative: pass --initiative NAME");
}

// The header of a CSV record file of `format`, indexed; InvalidArgument for an unknown
// column, a missing required one or one that appears twice.
absl::StatusOr<CsvHeader> CheckCsvHeader(const CsvRow& row, RecordFileFormat format) {
  const bool inventory = format == RecordFileFormat::kInventoryCsv;
  const Column* columns = inventory ? kInventoryColumns : kMetricsColumns;
  const size_t num_columns = inventory ? std::size(kInventoryColumns) : std::size(kMetricsColumns);
  const int header_line = row.line;
  for (const std::string& cell : row.fields) {
    const std::string name = ColumnName(cell);
    bool known = false;
    for (size_t k = 0; k < num_columns; ++k) known = known || name == columns[k].name;
    if (!known) {
      std::vector<std::string> names;  // Only for the message.
      for (size_t k = 0; k < num_columns; ++k) names.push_back(columns[k].name);
      return absl::InvalidArgumentError(absl::StrCat(
          "line ", header_line, ": unknown column '", name, "' (",
          inventory ? "inventory" : "metrics", " columns are ", absl::StrJoin(names, ","), ")"));
    }
  }
  absl::StatusOr<CsvHeader> header = IndexHeader(row);
  if (!header.ok()) return header.status();
  for (size_t k = 0; k < num_columns; ++k) {
    if (columns[k].required && !header->columns.contains(columns[k].name)) {
      return absl::InvalidArgumentError(
          absl::StrCat("line ", header_line, ": missing required column '", columns[k].name, "'"));
    }
  }
  return header;
}

absl::Status ParseCsv(absl::string_view contents, RecordFileFormat format,
                      absl::string_view initiative,
                      const std::function<bool(ParsedRecord&)>& visit) {
  if (absl::Status s = NeedInitiative(initiative); !s.ok()) return s;
  CsvTable table = SplitCsv(contents);
  const std::vector<CsvRow>& rows = table.rows;
  if (rows.empty()) return absl::InvalidArgumentError("CSV file has no header row");
  absl::StatusOr<CsvHeader> header = CheckCsvHeader(rows[0], format);
  if (!header.ok()) return header.status();
  const bool inventory = format == RecordFileFormat::kInventoryCsv;
  for (size_t r = 1; r < rows.size(); ++r) {
    const CsvRow& row = rows[r];
    ParsedRecord out;
    out.line = row.line;
    auto get = [&](const char* name) { return std::string(header->Cell(row, name)); };
    auto fail = [&](std::string field, std::string error) {
      out.ok = false;
      out.field = std::move(field);
      out.error = std::move(error);
    };
    out.ok = true;
    if (row.fields.size() != rows[0].fields.size()) {
      fail("line", absl::StrCat("has ", row.fields.size(), " fields, the header has ",
                                rows[0].fields.size()));
    } else if (inventory) {
      auto* a = out.request.mutable_content_asset();
      a->set_initiative(std::string(initiative));
      a->set_asset_id(get("asset_id"));
      a->set_title(get("title"));
      const std::string type = get("type");
      auto t = AssetTypeFromName(type);
      if (!t) {
        fail("type", absl::StrCat("'", type,
                                  "' is not one of deck, battlecard, one-pager, play, "
                                  "snippet, video, module, other"));
      } else {
        a->set_type(*t);
      }
      a->set_owner(get("owner"));
      a->set_last_updated(get("last_updated"));
      for (absl::string_view tag : absl::StrSplit(get("tags"), ';', absl::SkipWhitespace())) {
        a->add_tags(std::string(absl::StripAsciiWhitespace(tag)));
      }
      a->set_url(get("url"));
    } else {
      auto* m = out.request.mutable_onboarding_metric();
      m->set_initiative(std::string(initiative));
      m->set_cohort(get("cohort"));
      m->set_region(get("region"));
      m->set_segment(get("segment"));
      m->set_rep_id(get("rep_id"));
      m->set_period(get("period"));
      int reps = 0;
      if (!absl::SimpleAtoi(get("reps"), &reps)) {
        fail("reps", absl::StrCat("'", get("reps"), "' is not a whole number"));
      }
      m->set_reps(reps);
      const std::pair<const char*, void (fieldloop::v1::OnboardingMetric::*)(double)> numbers[] = {
          {"ramp_days", &fieldloop::v1::OnboardingMetric::set_ramp_days},
          {"ramp_target_days", &fieldloop::v1::OnboardingMetric::set_ramp_target_days},
          {"cert_pass_rate", &fieldloop::v1::OnboardingMetric::set_cert_pass_rate},
          {"call_quality", &fieldloop::v1::OnboardingMetric::set_call_quality}};
      for (const auto& [name, setter] : numbers) {
        double v = 0;
        if (out.ok && !absl::SimpleAtod(get(name), &v)) {
          fail(name, absl::StrCat("'", get(name), "' is not a number"));
        }
        (m->*setter)(v);
      }
    }
    if (!visit(out)) return absl::OkStatus();
  }
  return table.status;
}

// Sets or checks the initiative of the record in `request`.
std::string* InitiativeField(IngestRequest* request) {
  switch (request->record_case()) {
    case IngestRequest::kFeedbackEvent:
      return request->mutable_feedback_event()->mutable_initiative();
    case IngestRequest::kCallTranscript:
      return request->mutable_call_transcript()->mutable_initiative();
    case IngestRequest::kWinLossNote:
      return request->mutable_win_loss_note()->mutable_initiative();
    case IngestRequest::kContentAsset:
      return request->mutable_content_asset()->mutable_initiative();
    case IngestRequest::kOnboardingMetric:
      return request->mutable_onboarding_metric()->mutable_initiative();
    case IngestRequest::RECORD_NOT_SET:
      return nullptr;
  }
  return nullptr;
}

// Extracts the field name from protobuf's JSON parse errors where it names one.
std::string FieldFromJsonError(absl::string_view message) {
  // protobuf 3.21 writes "(feedback_event) bogus: Cannot find field." for unknown fields and
  // "(feedback_event.occurred_at) ..." style paths for bad values.
  if (!message.empty() && message[0] == '(') {
    const size_t close = message.find(')');
    if (close != absl::string_view::npos) {
      std::string path(message.substr(1, close - 1));
      absl::string_view rest = absl::StripLeadingAsciiWhitespace(message.substr(close + 1));
      const size_t colon = rest.find(':');
      if (colon != absl::string_view::npos && colon > 0 &&
          rest.substr(0, colon).find(' ') == absl::string_view::npos) {
        absl::StrAppend(&path, path.empty() ? "" : ".", rest.substr(0, colon));
      }
      if (!path.empty()) return path;
    }
  }
  for (absl::string_view marker : {"has no field named \"", "field \"", "Cannot find field: "}) {
    size_t at = message.find(marker);
    if (at == absl::string_view::npos) continue;
    absl::string_view rest = message.substr(at + marker.size());
    size_t end = rest.find_first_of("\". ");
    // The message may quote the input: 'field "' followed by a quote, a space or nothing
    // names no field; try the next marker.
    if (end != 0 && !rest.empty()) return std::string(rest.substr(0, end));
  }
  return "line";
}

absl::Status ParseJsonLines(absl::string_view contents, absl::string_view initiative,
                            const std::function<bool(ParsedRecord&)>& visit) {
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  int line_no = 0;
  for (absl::string_view line : absl::StrSplit(contents, '\n')) {
    ++line_no;
    if (absl::StripAsciiWhitespace(line).empty()) continue;
    ParsedRecord out;
    out.line = line_no;
    auto status = google::protobuf::util::JsonStringToMessage(
        google::protobuf::StringPiece(line.data(), line.size()), &out.request, options);
    if (!status.ok()) {
      out.ok = false;
      const std::string message(status.message());
      out.field = FieldFromJsonError(message);
      out.error = message;
    } else {
      out.ok = true;
      std::string* init = InitiativeField(&out.request);
      if (init != nullptr && !initiative.empty()) {
        if (init->empty()) {
          *init = std::string(initiative);
        } else if (*init != initiative) {
          out.ok = false;
          out.field = "initiative";
          out.error = absl::StrCat("is '", *init, "' but --initiative is '", initiative, "'");
        }
      }
    }
    if (!visit(out)) break;
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<RecordFileFormat> DetectRecordFileFormat(absl::string_view contents) {
  absl::string_view first = FirstNonBlankLine(contents);
  if (first.empty()) return absl::InvalidArgumentError("file is empty");
  if (first[0] == '{') return RecordFileFormat::kJsonLines;
  std::vector<CsvRow> header = SplitCsv(first).rows;
  if (!header.empty()) {
    for (const std::string& col : header[0].fields) {
      const std::string c = ColumnName(col);
      if (c == "asset_id") return RecordFileFormat::kInventoryCsv;
      if (c == "cohort") return RecordFileFormat::kMetricsCsv;
    }
  }
  return absl::InvalidArgumentError(
      "not a record file: expected JSON Lines (a line starting with '{') or a CSV header with "
      "an asset_id column (content inventory) or a cohort column (onboarding metrics)");
}

absl::Status CheckRecordFile(absl::string_view contents, absl::string_view initiative) {
  absl::StatusOr<RecordFileFormat> format = DetectRecordFileFormat(contents);
  if (!format.ok() || *format == RecordFileFormat::kJsonLines) return format.status();
  if (absl::Status s = NeedInitiative(initiative); !s.ok()) return s;
  // The header is the first non-blank line (a header cell holding a line break is not
  // supported here; ParseRecordFile reads it).
  // Splitting from the start of the file (blank rows are skipped) keeps what ParseRecordFile
  // sees: the line number, and a BOM dropped only at the very start of the file.
  const absl::string_view first = FirstNonBlankLine(contents);
  if (first.empty()) return absl::InvalidArgumentError("CSV file has no header row");
  std::vector<CsvRow> rows =
      SplitCsv(contents.substr(0, first.data() + first.size() - contents.data())).rows;
  if (rows.empty()) return absl::InvalidArgumentError("CSV file has no header row");
  return CheckCsvHeader(rows[0], *format).status();
}

absl::Status ParseRecordFile(absl::string_view contents, absl::string_view initiative,
                             const std::function<bool(ParsedRecord&)>& visit) {
  absl::StatusOr<RecordFileFormat> format = DetectRecordFileFormat(contents);
  if (!format.ok()) return format.status();
  if (*format == RecordFileFormat::kJsonLines) return ParseJsonLines(contents, initiative, visit);
  return ParseCsv(contents, *format, initiative, visit);
}

}  // namespace fieldloop::pipeline
