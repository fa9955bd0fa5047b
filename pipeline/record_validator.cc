#include "pipeline/record_validator.h"

#include <cstdint>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "google/protobuf/timestamp.pb.h"

namespace fieldloop::pipeline {
namespace {

using fieldloop::v1::IngestRequest;
using fieldloop::v1::RejectCode;

// Earliest accepted timestamp: 2000-01-01T00:00:00Z.
constexpr int64_t kMinSeconds = 946684800;

bool IsBlank(absl::string_view s) {
  for (char c : s) {
    if (c != ' ' && c != '\t' && c != '\n' && c != '\r') return false;
  }
  return true;
}

// Collects the checks of one record; stops at the first failure.
class Checker {
 public:
  Checker(std::string record_name, const ValidationLimits& limits, absl::Time now)
      : record_(std::move(record_name)), limits_(limits), now_(now) {}

  bool failed() const { return rejection_.has_value(); }
  std::optional<Rejection> result() && { return std::move(rejection_); }

  void Fail(RejectCode code, const std::string& field, absl::string_view rule) {
    if (failed()) return;
    rejection_ = Rejection{code, field, absl::StrCat(record_, ": ", field, ": ", rule)};
  }

  // A text field: valid UTF-8 and not longer than `max`. `required`: not empty or blank.
  void Text(const std::string& field, absl::string_view value, bool required, size_t max) {
    if (failed()) return;
    if (!IsValidUtf8(value))
      return Fail(fieldloop::v1::REJECT_CODE_INVALID_UTF8, field, "is not valid UTF-8");
    if (required && IsBlank(value))
      return Fail(fieldloop::v1::REJECT_CODE_MISSING_FIELD, field,
                  "is required and must not be empty");
    if (value.size() > max) {
      return Fail(fieldloop::v1::REJECT_CODE_TOO_LARGE, field,
                  absl::StrCat("is ", value.size(), " bytes, more than the limit of ", max));
    }
  }
  void Short(const std::string& field, absl::string_view value, bool required) {
    Text(field, value, required, limits_.max_short_field_bytes);
  }
  void Long(const std::string& field, absl::string_view value, bool required) {
    Text(field, value, required, limits_.max_record_bytes);
  }

  void Initiative(const std::string& field, absl::string_view value) {
    if (failed()) return;
    if (value.empty())
      return Fail(fieldloop::v1::REJECT_CODE_MISSING_FIELD, field,
                  "is required and must not be empty");
    if (!IsValidInitiative(value)) {
      return Fail(fieldloop::v1::REJECT_CODE_INVALID_INITIATIVE, field,
                  "must match [a-z0-9][a-z0-9._-]{0,63} (lower-case letters, digits, '.', '_', "
                  "'-'; at most 64 characters; it becomes a directory name)");
    }
  }

  void Enum(const std::string& field, int value, bool known) {
    if (failed()) return;
    if (value == 0)
      return Fail(fieldloop::v1::REJECT_CODE_UNKNOWN_ENUM, field, "is required (unspecified)");
    if (!known)
      return Fail(fieldloop::v1::REJECT_CODE_UNKNOWN_ENUM, field,
                  absl::StrCat("has unknown value ", value));
  }

  void Timestamp(const std::string& field, bool present, const google::protobuf::Timestamp& ts) {
    if (failed()) return;
    if (!present) return Fail(fieldloop::v1::REJECT_CODE_MISSING_FIELD, field, "is required");
    if (ts.nanos() < 0 || ts.nanos() > 999999999) {
      return Fail(fieldloop::v1::REJECT_CODE_INVALID_TIMESTAMP, field,
                  "has nanos outside 0..999999999");
    }
    if (ts.seconds() < kMinSeconds) {
      return Fail(fieldloop::v1::REJECT_CODE_INVALID_TIMESTAMP, field, "is before 2000-01-01");
    }
    if (ts.seconds() > absl::ToUnixSeconds(now_ + absl::Hours(24))) {
      return Fail(fieldloop::v1::REJECT_CODE_INVALID_TIMESTAMP, field,
                  "is more than one day in the future");
    }
  }

  void Range(const std::string& field, double value, double lo, double hi, absl::string_view rule) {
    if (failed()) return;
    if (!(value >= lo && value <= hi)) {  // Also catches NaN.
      Fail(fieldloop::v1::REJECT_CODE_OUT_OF_RANGE, field, absl::StrCat("is ", value, "; ", rule));
    }
  }

 private:
  std::string record_;
  const ValidationLimits& limits_;
  absl::Time now_;
  std::optional<Rejection> rejection_;
};

std::string Name(absl::string_view kind, absl::string_view id) {
  return id.empty() ? absl::StrCat(kind, " (no id)") : absl::StrCat(kind, " '", id, "'");
}

void CheckFeedback(const fieldloop::v1::FeedbackEvent& r, Checker& c) {
  const std::string p = "feedback_event.";
  c.Short(p + "id", r.id(), true);
  c.Initiative(p + "initiative", r.initiative());
  c.Enum(p + "source", r.source(), fieldloop::v1::Source_IsValid(r.source()));
  c.Short(p + "rep_id", r.rep_id(), true);
  c.Short(p + "region", r.region(), true);
  c.Short(p + "segment", r.segment(), true);
  c.Timestamp(p + "occurred_at", r.has_occurred_at(), r.occurred_at());
  c.Long(p + "text", r.text(), true);
  if (r.has_deal_id()) c.Short(p + "deal_id", r.deal_id(), true);
  for (int i = 0; i < r.asset_ids_size(); ++i) {
    c.Short(absl::StrCat(p, "asset_ids[", i, "]"), r.asset_ids(i), true);
  }
  if (r.has_theme_tag()) c.Text(p + "theme_tag", r.theme_tag(), true, 128);
}

void CheckTranscript(const fieldloop::v1::CallTranscript& r, Checker& c) {
  const std::string p = "call_transcript.";
  c.Short(p + "id", r.id(), true);
  c.Initiative(p + "initiative", r.initiative());
  c.Short(p + "rep_id", r.rep_id(), true);
  c.Short(p + "region", r.region(), true);
  c.Short(p + "segment", r.segment(), true);
  c.Timestamp(p + "occurred_at", r.has_occurred_at(), r.occurred_at());
  c.Short(p + "deal_id", r.deal_id(), false);
  if (r.utterances_size() == 0 && !c.failed()) {
    c.Fail(fieldloop::v1::REJECT_CODE_MISSING_FIELD, p + "utterances",
           "needs at least one utterance");
  }
  for (int i = 0; i < r.utterances_size(); ++i) {
    const std::string u = absl::StrCat(p, "utterances[", i, "].");
    c.Enum(u + "speaker", r.utterances(i).speaker(),
           fieldloop::v1::Speaker_IsValid(r.utterances(i).speaker()));
    c.Long(u + "text", r.utterances(i).text(), true);
  }
}

void CheckWinLoss(const fieldloop::v1::WinLossNote& r, Checker& c) {
  const std::string p = "win_loss_note.";
  c.Short(p + "id", r.id(), true);
  c.Initiative(p + "initiative", r.initiative());
  c.Short(p + "deal_id", r.deal_id(), true);
  c.Enum(p + "outcome", r.outcome(), fieldloop::v1::Outcome_IsValid(r.outcome()));
  c.Range(p + "amount", r.amount(), 0, 1e15, "must be a number from 0 to 1e15");
  if (!c.failed() && (r.amount() > 0 || !r.currency().empty())) {
    const std::string& cur = r.currency();
    bool ok = cur.size() == 3;
    for (char ch : cur) ok = ok && ch >= 'A' && ch <= 'Z';
    if (!ok) {
      c.Fail(cur.empty() ? fieldloop::v1::REJECT_CODE_MISSING_FIELD
                         : fieldloop::v1::REJECT_CODE_INVALID_VALUE,
             p + "currency",
             "must be an ISO 4217 code of three upper-case letters when amount > 0");
    }
  }
  c.Short(p + "region", r.region(), true);
  c.Short(p + "segment", r.segment(), true);
  const std::pair<const char*, const google::protobuf::RepeatedPtrField<std::string>*> lists[] = {
      {"competitors", &r.competitors()},
      {"objections", &r.objections()},
      {"proof_points", &r.proof_points()},
      {"customer_stories", &r.customer_stories()}};
  for (const auto& [name, list] : lists) {
    for (int i = 0; i < list->size(); ++i) {
      c.Long(absl::StrCat(p, name, "[", i, "]"), list->Get(i), true);
    }
  }
  c.Long(p + "summary", r.summary(), false);
  c.Timestamp(p + "closed_at", r.has_closed_at(), r.closed_at());
}

void CheckAsset(const fieldloop::v1::ContentAsset& r, Checker& c) {
  const std::string p = "content_asset.";
  c.Short(p + "asset_id", r.asset_id(), true);
  c.Initiative(p + "initiative", r.initiative());
  c.Long(p + "title", r.title(), true);
  c.Enum(p + "type", r.type(), fieldloop::v1::AssetType_IsValid(r.type()));
  c.Short(p + "owner", r.owner(), true);
  if (!c.failed() && r.last_updated().empty()) {
    c.Fail(fieldloop::v1::REJECT_CODE_MISSING_FIELD, p + "last_updated",
           "is required (YYYY-MM-DD)");
  }
  if (!c.failed() && !IsValidDate(r.last_updated())) {
    c.Fail(fieldloop::v1::REJECT_CODE_INVALID_TIMESTAMP, p + "last_updated",
           absl::StrCat("'", r.last_updated(), "' is not a date written YYYY-MM-DD"));
  }
  for (int i = 0; i < r.tags_size(); ++i)
    c.Short(absl::StrCat(p, "tags[", i, "]"), r.tags(i), true);
  c.Long(p + "url", r.url(), false);
}

void CheckMetric(const fieldloop::v1::OnboardingMetric& r, Checker& c) {
  const std::string p = "onboarding_metric.";
  c.Initiative(p + "initiative", r.initiative());
  c.Short(p + "cohort", r.cohort(), true);
  c.Short(p + "rep_id", r.rep_id(), false);
  c.Short(p + "region", r.region(), true);
  c.Short(p + "segment", r.segment(), true);
  c.Short(p + "period", r.period(), false);
  c.Range(p + "reps", r.reps(), 1, 1e6, "must be from 1 to 1000000");
  c.Range(p + "ramp_days", r.ramp_days(), 0, 3650, "must be from 0 to 3650");
  c.Range(p + "ramp_target_days", r.ramp_target_days(), 1e-9, 3650,
          "must be more than 0 and at most 3650");
  c.Range(p + "cert_pass_rate", r.cert_pass_rate(), 0, 1, "must be from 0 to 1");
  c.Range(p + "call_quality", r.call_quality(), 0, 100, "must be from 0 to 100");
}

}  // namespace

bool IsValidUtf8(absl::string_view s) {
  size_t i = 0;
  const size_t n = s.size();
  while (i < n) {
    const uint8_t c = static_cast<uint8_t>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    int len;
    uint32_t cp;
    if ((c & 0xe0) == 0xc0) {
      len = 2;
      cp = c & 0x1f;
    } else if ((c & 0xf0) == 0xe0) {
      len = 3;
      cp = c & 0x0f;
    } else if ((c & 0xf8) == 0xf0) {
      len = 4;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + len > n) return false;
    for (int k = 1; k < len; ++k) {
      const uint8_t cc = static_cast<uint8_t>(s[i + k]);
      if ((cc & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3f);
    }
    // Overlong forms, surrogates and values past U+10FFFF are invalid.
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
        (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff) {
      return false;
    }
    i += len;
  }
  return true;
}

RecordIdentity IdentityOf(const IngestRequest& request) {
  RecordIdentity id;
  switch (request.record_case()) {
    case IngestRequest::kFeedbackEvent:
      id = {fieldloop::v1::RECORD_KIND_FEEDBACK_EVENT, request.feedback_event().initiative(),
            request.feedback_event().id()};
      break;
    case IngestRequest::kCallTranscript:
      id = {fieldloop::v1::RECORD_KIND_CALL_TRANSCRIPT, request.call_transcript().initiative(),
            request.call_transcript().id()};
      break;
    case IngestRequest::kWinLossNote:
      id = {fieldloop::v1::RECORD_KIND_WIN_LOSS_NOTE, request.win_loss_note().initiative(),
            request.win_loss_note().id()};
      break;
    case IngestRequest::kContentAsset:
      id = {fieldloop::v1::RECORD_KIND_CONTENT_ASSET, request.content_asset().initiative(),
            request.content_asset().asset_id()};
      break;
    case IngestRequest::kOnboardingMetric: {
      const auto& m = request.onboarding_metric();
      // Parts are escaped so that different metrics never share an identity.
      auto escape = [](const std::string& part) {
        return absl::StrReplaceAll(part, {{"\\", "\\\\"}, {"|", "\\|"}});
      };
      id = {fieldloop::v1::RECORD_KIND_ONBOARDING_METRIC, m.initiative(),
            absl::StrJoin({escape(m.cohort()), escape(m.region()), escape(m.segment()),
                           escape(m.period()), escape(m.rep_id())},
                          "|")};
      break;
    }
    case IngestRequest::RECORD_NOT_SET:
      break;
  }
  return id;
}

absl::Status CheckInitiative(absl::string_view name) {
  if (IsValidInitiative(name)) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat("initiative: '", name, "' must match [a-z0-9][a-z0-9._-]{0,63}"));
}

bool IsValidInitiative(absl::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    if (!alnum && (i == 0 || (c != '.' && c != '_' && c != '-'))) return false;
  }
  return true;
}

bool IsValidDate(absl::string_view date) {
  if (date.size() != 10 || date[4] != '-' || date[7] != '-') return false;
  for (int i : {0, 1, 2, 3, 5, 6, 8, 9}) {
    if (date[i] < '0' || date[i] > '9') return false;
  }
  const int y = std::stoi(std::string(date.substr(0, 4)));
  const int m = std::stoi(std::string(date.substr(5, 2)));
  const int d = std::stoi(std::string(date.substr(8, 2)));
  if (y < 1970 || m < 1 || m > 12 || d < 1) return false;
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return d <= kDays[m - 1] + (m == 2 && leap ? 1 : 0);
}

absl::StatusOr<absl::CivilDay> ParseDay(absl::string_view date) {
  absl::CivilDay day;
  if (!IsValidDate(date) || !absl::ParseCivilTime(date, &day)) {
    return absl::InvalidArgumentError(absl::StrCat("'", date, "' is not a date YYYY-MM-DD"));
  }
  return day;
}

std::optional<Rejection> Validate(const IngestRequest& request, size_t serialized_size,
                                  const ValidationLimits& limits, absl::Time now) {
  const RecordIdentity identity = IdentityOf(request);
  static constexpr const char* kKindNames[] = {"request",         "feedback_event",
                                               "call_transcript", "win_loss_note",
                                               "content_asset",   "onboarding_metric"};
  Checker c(Name(kKindNames[identity.kind], identity.id), limits, now);
  if (serialized_size > limits.max_record_bytes) {
    c.Fail(fieldloop::v1::REJECT_CODE_TOO_LARGE, kKindNames[identity.kind],
           absl::StrCat("record is ", serialized_size,
                        " bytes, more than --max_record_bytes=", limits.max_record_bytes));
    return std::move(c).result();
  }
  switch (request.record_case()) {
    case IngestRequest::kFeedbackEvent:
      CheckFeedback(request.feedback_event(), c);
      break;
    case IngestRequest::kCallTranscript:
      CheckTranscript(request.call_transcript(), c);
      break;
    case IngestRequest::kWinLossNote:
      CheckWinLoss(request.win_loss_note(), c);
      break;
    case IngestRequest::kContentAsset:
      CheckAsset(request.content_asset(), c);
      break;
    case IngestRequest::kOnboardingMetric:
      CheckMetric(request.onboarding_metric(), c);
      break;
    case IngestRequest::RECORD_NOT_SET:
      c.Fail(fieldloop::v1::REJECT_CODE_EMPTY_REQUEST, "record",
             "the request carries no record (set one of feedback_event, call_transcript, "
             "win_loss_note, content_asset, onboarding_metric)");
      break;
  }
  return std::move(c).result();
}

}  // namespace fieldloop::pipeline
