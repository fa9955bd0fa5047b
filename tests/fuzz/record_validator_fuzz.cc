// Fuzz target: record validation (pipeline/record_validator.h).
// The bytes are parsed as a binary IngestRequest and, separately, as proto JSON; each request
// that parses is validated. Invariants: no crash; Validate is deterministic; a rejection has a
// code and a message; an accepted record has a kind, an id, a valid initiative (safe as a
// directory name) and fits max_record_bytes.
#include <string>

#include "absl/time/time.h"
#include "google/protobuf/util/json_util.h"
#include "pipeline/record_validator.h"
#include "proto/fieldloop/v1/ingest.pb.h"
#include "tests/fuzz/fuzz_targets.h"

namespace fieldloop::fuzz {

namespace {

void Check(const fieldloop::v1::IngestRequest& request) {
  const size_t serialized = request.ByteSizeLong();
  const pipeline::ValidationLimits limits;
  const absl::Time now = absl::FromUnixSeconds(1795000000);  // 2026-11-17: fixed, not a clock.
  const std::optional<pipeline::Rejection> first =
      pipeline::Validate(request, serialized, limits, now);
  const std::optional<pipeline::Rejection> second =
      pipeline::Validate(request, serialized, limits, now);
  FUZZ_CHECK(first.has_value() == second.has_value());
  const pipeline::RecordIdentity id = pipeline::IdentityOf(request);
  if (first.has_value()) {
    FUZZ_CHECK(first->code == second->code && first->field == second->field);
    FUZZ_CHECK(first->code != fieldloop::v1::REJECT_CODE_UNSPECIFIED);
    FUZZ_CHECK(!first->message.empty());
  } else {
    FUZZ_CHECK(id.kind != fieldloop::v1::RECORD_KIND_UNSPECIFIED);
    FUZZ_CHECK(!id.id.empty());
    FUZZ_CHECK(pipeline::IsValidInitiative(id.initiative));
    FUZZ_CHECK(serialized <= limits.max_record_bytes);
  }
}

}  // namespace

int FuzzRecordValidator(const uint8_t* data, size_t size) {
  fieldloop::v1::IngestRequest binary;
  if (binary.ParseFromArray(data, static_cast<int>(size))) Check(binary);
  fieldloop::v1::IngestRequest json;
  const std::string text(reinterpret_cast<const char*>(data), size);
  if (google::protobuf::util::JsonStringToMessage(text, &json).ok()) Check(json);
  return 0;
}

}  // namespace fieldloop::fuzz

FIELDLOOP_FUZZ_ENTRY(fieldloop::fuzz::FuzzRecordValidator)
