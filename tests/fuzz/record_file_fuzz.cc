// Fuzz target: record files (pipeline/record_files.h).
// Invariants: no crash; every visited record has a line within the input and lines never go
// back; a malformed record names its field and error; a good record carries a record of the
// given initiative, or none at all ("{}"), which Validate must then reject; a file that
// CheckRecordFile rejects is rejected by ParseRecordFile with the same status before any
// record is visited, unless a quote in the header line may span lines (CheckRecordFile reads
// only the first non-blank line, as record_files.h says).
#include <optional>

#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "pipeline/record_files.h"
#include "pipeline/record_validator.h"
#include "tests/fuzz/fuzz_targets.h"
#include "tests/fuzz/fuzz_util.h"

namespace fieldloop::fuzz {

namespace {

// The first line of `contents` that is not blank.
absl::string_view FirstNonBlankLine(absl::string_view contents) {
  for (absl::string_view line : absl::StrSplit(contents, '\n')) {
    if (!absl::StripAsciiWhitespace(line).empty()) return line;
  }
  return "";
}

void RunOnce(absl::string_view contents, absl::string_view initiative) {
  const int lines = LineCount(contents);
  const absl::Status check = pipeline::CheckRecordFile(contents, initiative);
  int visited = 0;
  int last_line = 0;
  const absl::Status status =
      pipeline::ParseRecordFile(contents, initiative, [&](pipeline::ParsedRecord& r) {
        ++visited;
        FUZZ_CHECK(r.line >= 1 && r.line <= lines);
        FUZZ_CHECK(r.line >= last_line);
        last_line = r.line;
        if (r.ok) {
          const pipeline::RecordIdentity id = pipeline::IdentityOf(r.request);
          if (id.kind == fieldloop::v1::RECORD_KIND_UNSPECIFIED) {
            // "{}" parses: an IngestRequest without a record. The validator must refuse it.
            const std::optional<pipeline::Rejection> rejection = pipeline::Validate(
                r.request, r.request.ByteSizeLong(), {}, absl::FromUnixSeconds(1795000000));
            FUZZ_CHECK(rejection.has_value() &&
                       rejection->code == fieldloop::v1::REJECT_CODE_EMPTY_REQUEST);
          } else if (!initiative.empty()) {
            FUZZ_CHECK(id.initiative == initiative);
          }
        } else {
          FUZZ_CHECK(!r.field.empty());
          FUZZ_CHECK(!r.error.empty());
        }
        return visited < 100000;  // Also exercises stopping early on huge files.
      });
  if (!check.ok() && !absl::StrContains(FirstNonBlankLine(contents), '"')) {
    FUZZ_CHECK(visited == 0);
    FUZZ_CHECK(status == check);
  }
  if (!status.ok()) FUZZ_CHECK(status.code() == absl::StatusCode::kInvalidArgument);
}

}  // namespace

int FuzzRecordFile(const uint8_t* data, size_t size) {
  const absl::string_view contents(reinterpret_cast<const char*>(data), size);
  RunOnce(contents, "q3-push");
  RunOnce(contents, "");
  return 0;
}

}  // namespace fieldloop::fuzz

FIELDLOOP_FUZZ_ENTRY(fieldloop::fuzz::FuzzRecordFile)
