#include "services/materializer.h"

#include <time.h>

#include <algorithm>
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "absl/time/civil_time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "pipeline/record_validator.h"
#include "services/board_keeper.h"
#include "services/ingestor.h"
#include "services/theme_applier.h"
#include "tests/testing/example_records.h"
#include "tests/testing/temp_dir.h"

namespace fieldloop::services {
namespace {

using fieldloop::v1::IngestRequest;
using ::testing::HasSubstr;
using ::testing::Not;

// The ISO week of `day` as glibc's strftime("%G-W%V") writes it.
std::string LibcIsoWeek(absl::CivilDay day) {
  struct tm in = {};
  in.tm_year = static_cast<int>(day.year()) - 1900;
  in.tm_mon = day.month() - 1;
  in.tm_mday = day.day();
  in.tm_hour = 12;
  const time_t seconds = timegm(&in);
  struct tm out = {};
  if (gmtime_r(&seconds, &out) == nullptr) return "gmtime_r failed";
  char buf[32];
  const size_t n = strftime(buf, sizeof(buf), "%G-W%V", &out);
  return std::string(buf, n);
}

TEST(IsoWeek, WritesYearAndTwoDigitWeek) {
  EXPECT_EQ(IsoWeek(absl::CivilDay(2026, 11, 25)), "2026-W48");
}

TEST(IsoWeek, EarlyJanuaryDaysCanBelongToThePreviousIsoYear) {
  EXPECT_EQ(IsoWeek(absl::CivilDay(2021, 1, 3)), "2020-W53");  // Sunday.
  EXPECT_EQ(IsoWeek(absl::CivilDay(2021, 1, 4)), "2021-W01");  // The Monday after.
  EXPECT_EQ(IsoWeek(absl::CivilDay(2027, 1, 1)), "2026-W53");  // Friday.
}

TEST(IsoWeek, LateDecemberDaysCanBelongToTheNextIsoYear) {
  EXPECT_EQ(IsoWeek(absl::CivilDay(2024, 12, 30)), "2025-W01");  // Monday.
}

TEST(IsoWeek, AThursdayJanuaryFirstIsInWeekOne) {
  EXPECT_EQ(IsoWeek(absl::CivilDay(2026, 1, 1)), "2026-W01");
}

TEST(IsoWeek, MatchesLibcStrftimeForEveryDayOf2020To2030) {
  int days = 0;
  for (absl::CivilDay day(2020, 1, 1); day <= absl::CivilDay(2030, 12, 31); ++day) {
    ASSERT_EQ(IsoWeek(day), LibcIsoWeek(day)) << day;
    ++days;
  }
  EXPECT_EQ(days, 4018);  // 11 years, 3 of them leap.
}

constexpr char kInitiative[] = "q3-push";
constexpr absl::CivilDay kAsOf(2026, 11, 25);

// Every kind of record, with what either way of reading them could get wrong: the example
// initiative with its win/loss notes interleaved in the reverse of their id order; a content
// asset and an onboarding row replaced by new versions, and an asset changed and changed
// back; feedback without a region or segment and in a region of its own; and an initiative
// whose name extends this one, with notes, assets and a feedback event of its own.
std::vector<IngestRequest> Corpus() {
  std::vector<IngestRequest> notes, out;
  for (IngestRequest& r : testing::AllExampleRecords()) {
    (r.has_win_loss_note() ? notes : out).push_back(std::move(r));
  }
  std::reverse(notes.begin(), notes.end());
  for (size_t i = 0; i < notes.size(); ++i) {
    out.insert(out.begin() + static_cast<std::ptrdiff_t>(i * 5), notes[i]);
  }
  for (const IngestRequest& r : std::vector<IngestRequest>(out)) {
    if (r.has_content_asset() && r.content_asset().asset_id() == "cnt-1001") {
      IngestRequest renamed = r;
      renamed.mutable_content_asset()->set_title("Acme CRM Battlecard (2026 refresh)");
      out.push_back(renamed);
    }
    if (r.has_content_asset() && r.content_asset().asset_id() == "cnt-1003") {
      IngestRequest changed = r;
      changed.mutable_content_asset()->set_title("Pricing draft");
      out.push_back(changed);
      out.push_back(r);  // And back.
    }
    if (r.has_onboarding_metric() && r.onboarding_metric().cohort() == "2026-04" &&
        r.onboarding_metric().region() == "NA") {
      IngestRequest lagging = r;
      lagging.mutable_onboarding_metric()->set_ramp_days(160);
      out.push_back(lagging);
    }
    if (r.has_feedback_event() && r.feedback_event().id() == "fb-q3-0001") {
      IngestRequest bare = r;
      bare.mutable_feedback_event()->set_id("fb-bare-1");
      bare.mutable_feedback_event()->clear_region();
      bare.mutable_feedback_event()->clear_segment();
      out.push_back(bare);
      IngestRequest apac = r;
      apac.mutable_feedback_event()->set_id("fb-apac-1");
      apac.mutable_feedback_event()->set_region("APAC-South");
      out.push_back(apac);
    }
    // The longer initiative: every note and asset, and one feedback event.
    if (r.has_win_loss_note() || r.has_content_asset() ||
        (r.has_feedback_event() && r.feedback_event().id() == "fb-q3-0002")) {
      IngestRequest other = r;
      if (other.has_win_loss_note()) other.mutable_win_loss_note()->set_initiative("q3-push-x");
      if (other.has_content_asset()) other.mutable_content_asset()->set_initiative("q3-push-x");
      if (other.has_feedback_event()) other.mutable_feedback_event()->set_initiative("q3-push-x");
      out.push_back(other);
    }
  }
  return out;
}

class AnalyzeInitiativeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = storage::Store::Open(dir_.Sub("data"), {});
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
  }

  void Append(const std::vector<IngestRequest>& records) {
    std::vector<storage::RecordToAppend> batch;
    for (const IngestRequest& r : records) {
      batch.push_back(ToAppend(pipeline::IdentityOf(r), r.SerializeAsString()));
    }
    ASSERT_TRUE(store_->Append(batch).ok());
  }

  // Renders `initiative` both ways, with the counts the applier kept and by reading the
  // whole log, and expects the same bytes and the same task records.
  void ExpectBothReadsAgree(const std::string& initiative, const ThemeView& kept,
                            RenderedOutputs* rendered) {
    ASSERT_TRUE(kept.inputs.has_value());
    ThemeView scanned = kept;
    scanned.inputs.reset();
    absl::StatusOr<RenderedOutputs> a =
        RenderOutputs(*store_, initiative, kept, kAsOf, dir_.Sub("out"));
    absl::StatusOr<RenderedOutputs> b =
        RenderOutputs(*store_, initiative, scanned, kAsOf, dir_.Sub("out"));
    ASSERT_TRUE(a.ok()) << a.status();
    ASSERT_TRUE(b.ok()) << b.status();
    EXPECT_EQ(a->board, b->board);
    EXPECT_EQ(a->plan_csv, b->plan_csv);
    EXPECT_EQ(a->stub, b->stub);
    EXPECT_EQ(a->themes, b->themes);
    ASSERT_EQ(a->task_records.size(), b->task_records.size());
    for (size_t i = 0; i < a->task_records.size(); ++i) {
      EXPECT_EQ(a->task_records[i].SerializeAsString(), b->task_records[i].SerializeAsString());
    }
    absl::StatusOr<pipeline::BoardInputs> in_a =
        AnalyzeInitiative(*store_, initiative, kept, kAsOf);
    absl::StatusOr<pipeline::BoardInputs> in_b =
        AnalyzeInitiative(*store_, initiative, scanned, kAsOf);
    ASSERT_TRUE(in_a.ok() && in_b.ok());
    EXPECT_EQ(in_a->feedback_events, in_b->feedback_events);
    EXPECT_EQ(in_a->call_transcripts, in_b->call_transcripts);
    EXPECT_EQ(in_a->win_loss_notes, in_b->win_loss_notes);
    EXPECT_EQ(in_a->content_assets, in_b->content_assets);
    EXPECT_EQ(in_a->onboarding_rows, in_b->onboarding_rows);
    ASSERT_EQ(in_a->proof_points.size(), in_b->proof_points.size());
    for (const auto& [theme, points] : in_a->proof_points) {
      const std::vector<pipeline::ProofPoint>& other = in_b->proof_points[theme];
      ASSERT_EQ(points.size(), other.size()) << theme;
      for (size_t i = 0; i < points.size(); ++i) {
        EXPECT_EQ(points[i].record_id, other[i].record_id);
        EXPECT_EQ(points[i].text, other[i].text);
      }
    }
    *rendered = std::move(*a);
  }

  testing::TempDir dir_;
  std::unique_ptr<storage::Store> store_;
};

TEST_F(AnalyzeInitiativeTest, KeptCountsAndPerKindReadsGiveWhatAFullScanGives) {
  const std::vector<IngestRequest> corpus = Corpus();
  Append(corpus);
  Append(std::vector<IngestRequest>(corpus.begin(), corpus.begin() + 40));  // Duplicates.
  ThemeApplier applier(store_.get());
  ASSERT_TRUE(applier.Start().ok());
  for (const char* initiative : {kInitiative, "q3-push-x"}) {
    ASSERT_TRUE(applier.WaitApplied(initiative, 0, absl::Now() + absl::Minutes(2)).ok());
  }

  RenderedOutputs rendered;
  ExpectBothReadsAgree(kInitiative, ViewOf(applier, kInitiative), &rendered);
  ASSERT_FALSE(rendered.stub);
  // The latest versions are the ones read.
  EXPECT_THAT(rendered.board, HasSubstr("Acme CRM Battlecard (2026 refresh)"));
  EXPECT_THAT(rendered.board, HasSubstr("Cohort 2026-04 (NA, MidMarket"));
  EXPECT_THAT(rendered.board, Not(HasSubstr("Pricing draft")));
  ExpectBothReadsAgree("q3-push-x", ViewOf(applier, "q3-push-x"), &rendered);
  EXPECT_FALSE(rendered.stub);

  const std::optional<state::InputCounts> counts = applier.Inputs(kInitiative);
  ASSERT_TRUE(counts.has_value());
  EXPECT_EQ(counts->feedback_events(), 244);  // 242 of the example, 2 added.
  EXPECT_EQ(counts->call_transcripts(), 70);
  EXPECT_EQ(counts->win_loss_notes(), 65);
}

TEST_F(AnalyzeInitiativeTest, AnInitiativeWithoutFeedbackGivesTheSameStubBothWays) {
  std::vector<IngestRequest> records;
  for (IngestRequest& r : testing::AllExampleRecords()) {
    if (!r.has_feedback_event() && !r.has_call_transcript()) records.push_back(std::move(r));
  }
  Append(records);
  ThemeApplier applier(store_.get());
  ASSERT_TRUE(applier.Start().ok());
  ASSERT_TRUE(applier.WaitApplied(kInitiative, 0, absl::Now() + absl::Minutes(2)).ok());
  RenderedOutputs rendered;
  ExpectBothReadsAgree(kInitiative, ViewOf(applier, kInitiative), &rendered);
  EXPECT_TRUE(rendered.stub);
}

TEST_F(AnalyzeInitiativeTest, CountsComeFromTheThemeStateWhenItHasThem) {
  Append(testing::AllExampleRecords());
  ThemeView view;
  view.inputs.emplace();
  view.inputs->set_feedback_events(4242);
  view.inputs->set_call_transcripts(7);
  view.inputs->set_win_loss_notes(3);
  absl::StatusOr<pipeline::BoardInputs> in = AnalyzeInitiative(*store_, kInitiative, view, kAsOf);
  ASSERT_TRUE(in.ok()) << in.status();
  EXPECT_EQ(in->feedback_events, 4242);
  EXPECT_EQ(in->call_transcripts, 7);
  EXPECT_EQ(in->win_loss_notes, 3);
  EXPECT_EQ(in->content_assets, 14);  // Read from the store either way.
  EXPECT_EQ(in->onboarding_rows, 8);
  view.inputs.reset();
  in = AnalyzeInitiative(*store_, kInitiative, view, kAsOf);
  ASSERT_TRUE(in.ok()) << in.status();
  EXPECT_EQ(in->feedback_events, 242);
}

}  // namespace
}  // namespace fieldloop::services
