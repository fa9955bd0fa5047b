#include "pipeline/theme_evidence.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "pipeline/board_renderer.h"

namespace fieldloop::pipeline {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

ThemeSummary Theme(ThemeId id, const std::string& label,
                   std::vector<std::pair<std::string, double>> stems,
                   std::map<std::string, int64_t> by_region,
                   std::map<std::string, int64_t> by_segment) {
  ThemeSummary t;
  t.id = id;
  t.label = label;
  t.stems = std::move(stems);
  t.by_region = std::move(by_region);
  t.by_segment = std::move(by_segment);
  for (const auto& [r, n] : t.by_region) t.mentions += n;
  t.by_quarter = {{"2026-Q4", t.mentions}};
  t.last_seen = 1795132800;
  return t;
}

PrioritizedThemes Themes() {
  return Prioritize({Theme(1, "monthly / billing", {{"month", 1.0}, {"bill", 0.8}, {"card", 0.3}},
                           {{"LATAM", 9}, {"NA", 1}}, {{"SMB", 10}}),
                     Theme(2, "soc / report", {{"soc", 1.0}, {"report", 0.9}, {"secur", 0.5}},
                           {{"EMEA", 6}, {"NA", 4}}, {{"Enterprise", 8}, {"SMB", 2}}),
                     Theme(3, "hubspot / connector", {{"hubspot", 1.0}, {"connector", 0.7}},
                           {{"EMEA", 2}, {"NA", 8}}, {{"Enterprise", 1}, {"SMB", 9}})},
                    absl::CivilDay(2026, 11, 25), 3, 2);
}

fieldloop::v1::WinLossNote Note(const std::string& id, fieldloop::v1::Outcome outcome,
                                std::vector<std::string> proof, std::vector<std::string> stories) {
  fieldloop::v1::WinLossNote n;
  n.set_id(id);
  n.set_outcome(outcome);
  for (auto& p : proof) n.add_proof_points(p);
  for (auto& s : stories) n.add_customer_stories(s);
  return n;
}

TEST(TieProofPoints, TiesEachTextToTheThemeItCoversWonDealsFirst) {
  TextNormalizer normalizer;
  auto tied = TieProofPoints(
      Themes(),
      {Note("wl-0", fieldloop::v1::OUTCOME_LOST, {"Shared the SOC 2 report under NDA"}, {}),
       Note("wl-1", fieldloop::v1::OUTCOME_WON, {"SOC 2 Type II report sent same day"},
            {"Monthly billing by card won Tienda Rapida"}),
       Note("wl-3", fieldloop::v1::OUTCOME_WON, {"Great relationship with the champion"}, {})},
      normalizer);
  ASSERT_EQ(tied.size(), 2u);  // The champion text shares no theme's terms: not tied.
  ASSERT_EQ(tied[2].size(), 2u);
  EXPECT_EQ(tied[2][0].record_id, "wl-1");  // Won deal first, although "wl-0" sorts first.
  EXPECT_TRUE(tied[2][0].won);
  EXPECT_EQ(tied[2][1].record_id, "wl-0");
  ASSERT_EQ(tied[1].size(), 1u);
  EXPECT_TRUE(tied[1][0].customer_story);
}

TEST(TieProofPoints, KeepsAtMostThreeDistinctTextsPerTheme) {
  TextNormalizer normalizer;
  std::vector<fieldloop::v1::WinLossNote> notes;
  for (int i = 0; i < 5; ++i) {
    notes.push_back(
        Note("wl-" + std::to_string(i), fieldloop::v1::OUTCOME_WON,
             {i < 2 ? "SOC 2 report same day" : "SOC report in the data room " + std::to_string(i)},
             {}));
  }
  auto tied = TieProofPoints(Themes(), notes, normalizer);
  ASSERT_EQ(tied[2].size(), kMaxProofPointsPerTheme);
  EXPECT_EQ(tied[2][0].text, "SOC 2 report same day");
  EXPECT_EQ(tied[2][1].record_id, "wl-2");  // wl-1's copy of the same text is dropped.
}

TEST(AdviseRamp, SuggestsTheThemesHeardMostInTheCohortsRegionAndSegment) {
  RampRisk risk;
  risk.cohort = "2026-06";
  risk.region = "EMEA";
  risk.segment = "Enterprise";
  const RampAdvice advice = AdviseRamp(risk, Themes(), {});
  // soc: 6 + 8 = 14; hubspot: 2 + 1 = 3; monthly: 0 + 0, not heard there.
  EXPECT_THAT(advice.modules, ElementsAre("soc / report", "hubspot / connector"));
  EXPECT_TRUE(advice.content_fresh);  // No task for either theme.

  RefreshTask stale;
  stale.theme_id = 3;
  EXPECT_FALSE(AdviseRamp(risk, Themes(), {stale}).content_fresh);
}

TEST(AdviseRamp, LaggingCohortAppearsOnTheBoardWithModules) {
  BoardInputs in;
  in.initiative = "q3-push";
  in.as_of = absl::CivilDay(2026, 11, 25);
  in.feedback_events = 20;
  in.onboarding_rows = 1;
  in.themes = Themes();
  RampRisk risk;
  risk.cohort = "2026-06";
  risk.region = "EMEA";
  risk.segment = "Enterprise";
  risk.reps = 4;
  risk.reasons = {"ramp 142 days vs target 90 (+58%)"};
  in.ramp_risks = {risk};
  const std::string board = RenderBoard(in);
  EXPECT_THAT(board, HasSubstr("- Cohort 2026-06 (EMEA, Enterprise, 4 reps): ramp 142 days"));
  EXPECT_THAT(board, HasSubstr("Modules to refine, from what reps in EMEA and Enterprise hear "
                               "most: **soc / report**, **hubspot / connector**."));
  EXPECT_THAT(board, HasSubstr("coaching"));
}

}  // namespace
}  // namespace fieldloop::pipeline
