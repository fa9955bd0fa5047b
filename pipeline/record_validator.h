// RecordValidator: the rules every ingested record must pass (docs/formats.md lists them).
// Pure: the current time is a parameter, so the same input always gives the same answer.
#ifndef FIELDLOOP_PIPELINE_RECORD_VALIDATOR_H_
#define FIELDLOOP_PIPELINE_RECORD_VALIDATOR_H_

#include <cstddef>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "proto/fieldloop/v1/ingest.pb.h"

namespace fieldloop::pipeline {

struct ValidationLimits {
  // Largest accepted serialized record, in bytes.
  // Default: 64 KiB (the server's --max_record_bytes).
  size_t max_record_bytes = 64 * 1024;
  // Largest id, deal id, rep id, region, segment, tag or other short field, in bytes.
  // Default: 256.
  size_t max_short_field_bytes = 256;
};

// Why a record was rejected: a machine-readable code, the field path at fault (such as
// "call_transcript.utterances[2].speaker") and a message naming record, field and rule.
struct Rejection {
  fieldloop::v1::RejectCode code = fieldloop::v1::REJECT_CODE_UNSPECIFIED;
  std::string field;
  std::string message;
};

// Identity of a record: (initiative, kind, id). For OnboardingMetric the id is
// "cohort|region|segment|period|rep_id", with '\' and '|' inside a part escaped.
struct RecordIdentity {
  fieldloop::v1::RecordKind kind = fieldloop::v1::RECORD_KIND_UNSPECIFIED;
  std::string initiative;
  std::string id;
};

// Returns the identity of the record in `request` (kind UNSPECIFIED and empty strings when
// the request carries no record). Does not validate.
RecordIdentity IdentityOf(const fieldloop::v1::IngestRequest& request);

// Returns true if `name` matches [a-z0-9][a-z0-9._-]{0,63}: safe as one directory name.
bool IsValidInitiative(absl::string_view name);

// OK when IsValidInitiative(name); else InvalidArgument
// "initiative: '<name>' must match [a-z0-9][a-z0-9._-]{0,63}".
absl::Status CheckInitiative(absl::string_view name);

// Returns true if `date` is a real calendar date written YYYY-MM-DD.
bool IsValidDate(absl::string_view date);

// True when `s` is well-formed UTF-8 (no overlong forms, surrogates or code points past
// U+10FFFF).
bool IsValidUtf8(absl::string_view s);

// Parses a date written YYYY-MM-DD (IsValidDate); InvalidArgument otherwise. Format one
// back with absl::FormatCivilTime.
absl::StatusOr<absl::CivilDay> ParseDay(absl::string_view date);

// Checks `request` against every rule; returns the first rule broken, nullopt when the
// record is acceptable. `serialized_size` is the size of the request on the wire; `now`
// bounds timestamps (at most one day in the future; none before 2000-01-01).
std::optional<Rejection> Validate(const fieldloop::v1::IngestRequest& request,
                                  size_t serialized_size, const ValidationLimits& limits,
                                  absl::Time now);

}  // namespace fieldloop::pipeline

#endif  // FIELDLOOP_PIPELINE_RECORD_VALIDATOR_H_
