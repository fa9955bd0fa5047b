#include "pipeline/record_validator.h"

#include <cmath>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"

namespace fieldloop::pipeline {
namespace {

using fieldloop::v1::IngestRequest;
using ::testing::HasSubstr;

// The validator's notion of now in every test: 2026-11-25T12:00:00Z.
const absl::Time kNow = absl::FromUnixSeconds(1795608000);

IngestRequest FromJson(const std::string& json) {
  IngestRequest r;
  auto s = google::protobuf::util::JsonStringToMessage(json, &r);
  EXPECT_TRUE(s.ok()) << s.ToString() << " in " << json;
  return r;
}

IngestRequest GoodFeedback() {
  return FromJson(R"({"feedback_event": {"id": "fb-1", "initiative": "q3-push",
      "source": "SOURCE_CALL", "rep_id": "rep-7", "region": "EMEA", "segment": "SMB",
      "occurred_at": "2026-09-01T10:00:00Z", "text": "Buyer asked for SOC 2 report"}})");
}
IngestRequest GoodTranscript() {
  return FromJson(R"({"call_transcript": {"id": "tr-1", "initiative": "q3-push",
      "rep_id": "rep-7", "region": "NA", "segment": "Enterprise",
      "occurred_at": "2026-09-01T10:00:00Z", "deal_id": "d-1",
      "utterances": [{"speaker": "SPEAKER_REP", "text": "How is it going?"},
                     {"speaker": "SPEAKER_BUYER", "text": "Your price is too high."}]}})");
}
IngestRequest GoodWinLoss() {
  return FromJson(R"({"win_loss_note": {"id": "wl-1", "initiative": "q3-push",
      "deal_id": "d-1", "outcome": "OUTCOME_LOST", "amount": 120000, "currency": "USD",
      "region": "NA", "segment": "Enterprise", "competitors": ["Acme CRM"],
      "objections": ["Too expensive"], "closed_at": "2026-09-30T00:00:00Z"}})");
}
IngestRequest GoodAsset() {
  return FromJson(R"({"content_asset": {"asset_id": "deck-1", "initiative": "q3-push",
      "title": "Pricing deck", "type": "ASSET_TYPE_DECK", "owner": "ann@example.com",
      "last_updated": "2025-02-28", "tags": ["pricing"]}})");
}
IngestRequest GoodMetric() {
  return FromJson(R"({"onboarding_metric": {"initiative": "q3-push", "cohort": "2026-06",
      "region": "EMEA", "segment": "Enterprise", "period": "2026-Q3", "reps": 6,
      "ramp_days": 142, "ramp_target_days": 90, "cert_pass_rate": 0.58,
      "call_quality": 61}})");
}

std::optional<Rejection> Check(const IngestRequest& r, size_t size = 100) {
  return Validate(r, size, ValidationLimits(), kNow);
}

void ExpectRejected(const IngestRequest& r, fieldloop::v1::RejectCode code,
                    const std::string& field) {
  std::optional<Rejection> rej = Check(r);
  ASSERT_TRUE(rej.has_value()) << "accepted: " << r.ShortDebugString();
  EXPECT_EQ(rej->code, code) << rej->message;
  EXPECT_EQ(rej->field, field) << rej->message;
  EXPECT_THAT(rej->message, HasSubstr(field));
}

TEST(RecordValidator, AcceptsGoodRecordsOfEveryKind) {
  for (const IngestRequest& r :
       {GoodFeedback(), GoodTranscript(), GoodWinLoss(), GoodAsset(), GoodMetric()}) {
    std::optional<Rejection> rej = Check(r);
    EXPECT_FALSE(rej.has_value()) << rej->message;
  }
}

TEST(RecordValidator, EmptyRequestIsRejected) {
  ExpectRejected(IngestRequest(), fieldloop::v1::REJECT_CODE_EMPTY_REQUEST, "record");
}

TEST(RecordValidator, InitiativeNamesThatAreNotSafeDirectoryNamesAreRejected) {
  for (const std::string& bad :
       std::vector<std::string>{"../x", "a/b", "Q3", "q3 push", ".hidden", "-x", "_x",
                                std::string(65, 'a'), "x\\y", "caf\xc3\xa9"}) {
    IngestRequest r = GoodFeedback();
    r.mutable_feedback_event()->set_initiative(bad);
    ExpectRejected(r, fieldloop::v1::REJECT_CODE_INVALID_INITIATIVE, "feedback_event.initiative");
  }
  IngestRequest empty = GoodFeedback();
  empty.mutable_feedback_event()->clear_initiative();
  ExpectRejected(empty, fieldloop::v1::REJECT_CODE_MISSING_FIELD, "feedback_event.initiative");
}

TEST(RecordValidator, InitiativeNamesInTheAllowedSetAreAccepted) {
  for (const std::string& good :
       std::vector<std::string>{"a", "q3-push", "emea.2026_h2", std::string(64, 'z'), "0"}) {
    EXPECT_TRUE(IsValidInitiative(good)) << good;
  }
}

TEST(RecordValidator, RequiredFieldsMustBePresent) {
  struct Case {
    IngestRequest request;
    std::string field;
  };
  IngestRequest no_id = GoodFeedback();
  no_id.mutable_feedback_event()->clear_id();
  IngestRequest no_rep = GoodFeedback();
  no_rep.mutable_feedback_event()->clear_rep_id();
  IngestRequest no_region = GoodTranscript();
  no_region.mutable_call_transcript()->clear_region();
  IngestRequest no_segment = GoodWinLoss();
  no_segment.mutable_win_loss_note()->clear_segment();
  IngestRequest no_deal = GoodWinLoss();
  no_deal.mutable_win_loss_note()->clear_deal_id();
  IngestRequest no_owner = GoodAsset();
  no_owner.mutable_content_asset()->clear_owner();
  IngestRequest no_cohort = GoodMetric();
  no_cohort.mutable_onboarding_metric()->clear_cohort();
  IngestRequest no_utterances = GoodTranscript();
  no_utterances.mutable_call_transcript()->clear_utterances();
  for (const Case& c :
       {Case{no_id, "feedback_event.id"}, Case{no_rep, "feedback_event.rep_id"},
        Case{no_region, "call_transcript.region"}, Case{no_segment, "win_loss_note.segment"},
        Case{no_deal, "win_loss_note.deal_id"}, Case{no_owner, "content_asset.owner"},
        Case{no_cohort, "onboarding_metric.cohort"},
        Case{no_utterances, "call_transcript.utterances"}}) {
    ExpectRejected(c.request, fieldloop::v1::REJECT_CODE_MISSING_FIELD, c.field);
  }
}

TEST(RecordValidator, TextMustBeNonEmpty) {
  IngestRequest r = GoodFeedback();
  r.mutable_feedback_event()->set_text("   \n");
  ExpectRejected(r, fieldloop::v1::REJECT_CODE_MISSING_FIELD, "feedback_event.text");
  IngestRequest t = GoodTranscript();
  t.mutable_call_transcript()->mutable_utterances(1)->set_text("");
  ExpectRejected(t, fieldloop::v1::REJECT_CODE_MISSING_FIELD, "call_transcript.utterances[1].text");
}

TEST(RecordValidator, TextMustBeValidUtf8) {
  for (const std::string& bad : {std::string("abc\xff"), std::string("\xc3"),
                                 std::string("\xc0\xaf"),         // Overlong '/'.
                                 std::string("\xed\xa0\x80")}) {  // Surrogate.
    IngestRequest r = GoodFeedback();
    r.mutable_feedback_event()->set_text(bad);
    ExpectRejected(r, fieldloop::v1::REJECT_CODE_INVALID_UTF8, "feedback_event.text");
  }
  IngestRequest ok = GoodFeedback();
  ok.mutable_feedback_event()->set_text("Zoë in São Paulo wants € pricing 👍");
  EXPECT_FALSE(Check(ok).has_value());
}

TEST(RecordValidator, RecordsOverTheSizeLimitAreRejected) {
  ValidationLimits limits;
  limits.max_record_bytes = 1000;
  std::optional<Rejection> rej = Validate(GoodFeedback(), 1001, limits, kNow);
  ASSERT_TRUE(rej.has_value());
  EXPECT_EQ(rej->code, fieldloop::v1::REJECT_CODE_TOO_LARGE);
  EXPECT_THAT(rej->message, HasSubstr("max_record_bytes"));
  EXPECT_FALSE(Validate(GoodFeedback(), 1000, limits, kNow).has_value());

  IngestRequest long_id = GoodFeedback();
  long_id.mutable_feedback_event()->set_id(std::string(257, 'x'));
  ExpectRejected(long_id, fieldloop::v1::REJECT_CODE_TOO_LARGE, "feedback_event.id");
}

TEST(RecordValidator, UnknownOrUnspecifiedEnumsAreRejected) {
  IngestRequest no_source = GoodFeedback();
  no_source.mutable_feedback_event()->set_source(fieldloop::v1::SOURCE_UNSPECIFIED);
  ExpectRejected(no_source, fieldloop::v1::REJECT_CODE_UNKNOWN_ENUM, "feedback_event.source");
  IngestRequest unknown_source = GoodFeedback();
  unknown_source.mutable_feedback_event()->set_source(static_cast<fieldloop::v1::Source>(42));
  ExpectRejected(unknown_source, fieldloop::v1::REJECT_CODE_UNKNOWN_ENUM, "feedback_event.source");
  IngestRequest speaker = GoodTranscript();
  speaker.mutable_call_transcript()->mutable_utterances(0)->set_speaker(
      fieldloop::v1::SPEAKER_UNSPECIFIED);
  ExpectRejected(speaker, fieldloop::v1::REJECT_CODE_UNKNOWN_ENUM,
                 "call_transcript.utterances[0].speaker");
  IngestRequest outcome = GoodWinLoss();
  outcome.mutable_win_loss_note()->set_outcome(static_cast<fieldloop::v1::Outcome>(9));
  ExpectRejected(outcome, fieldloop::v1::REJECT_CODE_UNKNOWN_ENUM, "win_loss_note.outcome");
  IngestRequest type = GoodAsset();
  type.mutable_content_asset()->set_type(fieldloop::v1::ASSET_TYPE_UNSPECIFIED);
  ExpectRejected(type, fieldloop::v1::REJECT_CODE_UNKNOWN_ENUM, "content_asset.type");
}

TEST(RecordValidator, TimestampsMustBePresentAndNotAbsurd) {
  IngestRequest missing = GoodFeedback();
  missing.mutable_feedback_event()->clear_occurred_at();
  ExpectRejected(missing, fieldloop::v1::REJECT_CODE_MISSING_FIELD, "feedback_event.occurred_at");
  IngestRequest old = GoodFeedback();
  old.mutable_feedback_event()->mutable_occurred_at()->set_seconds(946684799);  // 1999-12-31.
  ExpectRejected(old, fieldloop::v1::REJECT_CODE_INVALID_TIMESTAMP, "feedback_event.occurred_at");
  IngestRequest future = GoodTranscript();
  future.mutable_call_transcript()->mutable_occurred_at()->set_seconds(
      absl::ToUnixSeconds(kNow + absl::Hours(25)));
  ExpectRejected(future, fieldloop::v1::REJECT_CODE_INVALID_TIMESTAMP,
                 "call_transcript.occurred_at");
  IngestRequest nanos = GoodWinLoss();
  nanos.mutable_win_loss_note()->mutable_closed_at()->set_nanos(-1);
  ExpectRejected(nanos, fieldloop::v1::REJECT_CODE_INVALID_TIMESTAMP, "win_loss_note.closed_at");
  IngestRequest near_future = GoodFeedback();
  near_future.mutable_feedback_event()->mutable_occurred_at()->set_seconds(
      absl::ToUnixSeconds(kNow + absl::Hours(23)));
  EXPECT_FALSE(Check(near_future).has_value());  // Clock skew of producers is tolerated.
}

TEST(RecordValidator, DatesMustBeRealCalendarDates) {
  for (const std::string& bad : std::vector<std::string>{"2025-02-29", "2025-13-01", "2025-1-01",
                                                         "yesterday", "2025/01/01"}) {
    IngestRequest r = GoodAsset();
    r.mutable_content_asset()->set_last_updated(bad);
    ExpectRejected(r, fieldloop::v1::REJECT_CODE_INVALID_TIMESTAMP, "content_asset.last_updated");
  }
  EXPECT_TRUE(IsValidDate("2024-02-29"));
  IngestRequest none = GoodAsset();
  none.mutable_content_asset()->clear_last_updated();
  ExpectRejected(none, fieldloop::v1::REJECT_CODE_MISSING_FIELD, "content_asset.last_updated");
}

TEST(RecordValidator, AmountsMustNotBeNegativeAndNeedACurrency) {
  IngestRequest negative = GoodWinLoss();
  negative.mutable_win_loss_note()->set_amount(-5);
  ExpectRejected(negative, fieldloop::v1::REJECT_CODE_OUT_OF_RANGE, "win_loss_note.amount");
  IngestRequest nan = GoodWinLoss();
  nan.mutable_win_loss_note()->set_amount(std::nan(""));
  ExpectRejected(nan, fieldloop::v1::REJECT_CODE_OUT_OF_RANGE, "win_loss_note.amount");
  IngestRequest no_currency = GoodWinLoss();
  no_currency.mutable_win_loss_note()->clear_currency();
  ExpectRejected(no_currency, fieldloop::v1::REJECT_CODE_MISSING_FIELD, "win_loss_note.currency");
  IngestRequest bad_currency = GoodWinLoss();
  bad_currency.mutable_win_loss_note()->set_currency("usd");
  ExpectRejected(bad_currency, fieldloop::v1::REJECT_CODE_INVALID_VALUE, "win_loss_note.currency");
  IngestRequest zero = GoodWinLoss();
  zero.mutable_win_loss_note()->set_amount(0);
  zero.mutable_win_loss_note()->clear_currency();
  EXPECT_FALSE(Check(zero).has_value());  // Unknown amount needs no currency.
}

TEST(RecordValidator, OnboardingFiguresMustBeInRange) {
  struct Case {
    void (fieldloop::v1::OnboardingMetric::*set)(double);
    double value;
    std::string field;
  };
  for (const Case& c :
       {Case{&fieldloop::v1::OnboardingMetric::set_cert_pass_rate, 1.2,
             "onboarding_metric.cert_pass_rate"},
        Case{&fieldloop::v1::OnboardingMetric::set_cert_pass_rate, -0.1,
             "onboarding_metric.cert_pass_rate"},
        Case{&fieldloop::v1::OnboardingMetric::set_call_quality, 101,
             "onboarding_metric.call_quality"},
        Case{&fieldloop::v1::OnboardingMetric::set_ramp_days, -1, "onboarding_metric.ramp_days"},
        Case{&fieldloop::v1::OnboardingMetric::set_ramp_target_days, 0,
             "onboarding_metric.ramp_target_days"}}) {
    IngestRequest r = GoodMetric();
    (r.mutable_onboarding_metric()->*c.set)(c.value);
    ExpectRejected(r, fieldloop::v1::REJECT_CODE_OUT_OF_RANGE, c.field);
  }
  IngestRequest no_reps = GoodMetric();
  no_reps.mutable_onboarding_metric()->set_reps(0);
  ExpectRejected(no_reps, fieldloop::v1::REJECT_CODE_OUT_OF_RANGE, "onboarding_metric.reps");
  IngestRequest edges = GoodMetric();
  edges.mutable_onboarding_metric()->set_cert_pass_rate(1.0);
  edges.mutable_onboarding_metric()->set_call_quality(0);
  EXPECT_FALSE(Check(edges).has_value());
}

TEST(RecordValidator, MessageNamesTheRecordAndTheField) {
  IngestRequest r = GoodFeedback();
  r.mutable_feedback_event()->set_text("");
  std::optional<Rejection> rej = Check(r);
  ASSERT_TRUE(rej.has_value());
  EXPECT_EQ(rej->message,
            "feedback_event 'fb-1': feedback_event.text: is required and must not be empty");
}

TEST(RecordValidator, IdentityOfMetricIsItsNaturalKey) {
  RecordIdentity id = IdentityOf(GoodMetric());
  EXPECT_EQ(id.kind, fieldloop::v1::RECORD_KIND_ONBOARDING_METRIC);
  EXPECT_EQ(id.initiative, "q3-push");
  EXPECT_EQ(id.id, "2026-06|EMEA|Enterprise|2026-Q3|");
  EXPECT_EQ(IdentityOf(GoodAsset()).id, "deck-1");
}

TEST(RecordValidator, MetricIdentitiesOfDifferentMetricsNeverCollide) {
  IngestRequest a = GoodMetric();
  a.mutable_onboarding_metric()->set_cohort("x|y");
  a.mutable_onboarding_metric()->set_region("z");
  IngestRequest b = GoodMetric();
  b.mutable_onboarding_metric()->set_cohort("x");
  b.mutable_onboarding_metric()->set_region("y|z");
  EXPECT_NE(IdentityOf(a).id, IdentityOf(b).id);
}

TEST(RecordValidator, CurrencyIsCheckedWheneverItIsSet) {
  IngestRequest r = GoodWinLoss();
  r.mutable_win_loss_note()->set_amount(0);
  r.mutable_win_loss_note()->set_currency("dollars");
  ExpectRejected(r, fieldloop::v1::REJECT_CODE_INVALID_VALUE, "win_loss_note.currency");
}

}  // namespace
}  // namespace fieldloop::pipeline
