// Record files: JSON Lines of IngestRequest, and the content-inventory and onboarding-metrics
// CSV files (docs/formats.md). Pure: parses text given to it; never opens files.
#ifndef FIELDLOOP_PIPELINE_RECORD_FILES_H_
#define FIELDLOOP_PIPELINE_RECORD_FILES_H_

#include <functional>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "proto/fieldloop/v1/ingest.pb.h"

namespace fieldloop::pipeline {

enum class RecordFileFormat {
  kJsonLines,     // One IngestRequest per line, proto JSON mapping. Blank lines skipped.
  kInventoryCsv,  // Header names asset_id,title,type,owner,last_updated,tags[,url].
  kMetricsCsv,    // Header names cohort,region,segment,reps,ramp_days,ramp_target_days,
                  // cert_pass_rate,call_quality[,rep_id,period].
};

// The asset type of a CSV type name (deck, battlecard, one-pager or one_pager, play,
// snippet, video, module, other; case and surrounding spaces ignored); nullopt otherwise.
std::optional<fieldloop::v1::AssetType> AssetTypeFromName(absl::string_view name);

// Tells the format from the first non-blank line: '{' starts JSON Lines; a CSV header with
// an asset_id column is an inventory, with a cohort column a metrics file. Returns
// InvalidArgument naming what was seen otherwise.
absl::StatusOr<RecordFileFormat> DetectRecordFileFormat(absl::string_view contents);

// One line (JSON Lines) or row (CSV) of a record file.
struct ParsedRecord {
  int line = 0;  // 1-based line where the record starts.
  bool ok = false;
  fieldloop::v1::IngestRequest request;  // Valid when ok.
  std::string field;  // When !ok: the field (or column) at fault, "line" if unknown.
  std::string error;  // When !ok: what is wrong.
};

// Parses `contents` and calls `visit` for every record in file order, good or malformed;
// stops early when `visit` returns false. A malformed line never stops the others.
// `initiative` fills the initiative of CSV rows (required for CSV: InvalidArgument if empty)
// and, when non-empty, must match the initiative of JSON records that have one (records
// without one get it). Returns InvalidArgument for a problem with the whole file: unknown
// format, an unknown or missing required CSV column (named in the message), a duplicate
// column, or no --initiative for a CSV file; and, after every row was visited, an
// unterminated quoted CSV cell.
absl::Status ParseRecordFile(absl::string_view contents, absl::string_view initiative,
                             const std::function<bool(ParsedRecord&)>& visit);

// The whole-file checks of ParseRecordFile (format, --initiative and the CSV header) without
// reading the records: what it would return for `contents` before visiting any. Reads only
// the first non-blank line.
absl::Status CheckRecordFile(absl::string_view contents, absl::string_view initiative);

}  // namespace fieldloop::pipeline

#endif  // FIELDLOOP_PIPELINE_RECORD_FILES_H_
