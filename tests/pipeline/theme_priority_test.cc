#include "pipeline/theme_priority.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace fieldloop::pipeline {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

const absl::CivilDay kAsOf(2026, 11, 25);  // 2026-Q4.
const int64_t kNov20 = 1795132800;         // 2026-11-20T00:00:00Z.

ThemeSummary Theme(ThemeId id, int64_t mentions, std::map<std::string, int64_t> regions,
                   std::map<std::string, int64_t> quarters, int64_t last_seen = kNov20) {
  ThemeSummary t;
  t.id = id;
  t.label = "theme " + std::to_string(id);
  t.mentions = mentions;
  t.by_region = std::move(regions);
  t.by_segment = {{"SMB", mentions / 2}, {"Enterprise", mentions - mentions / 2}};
  t.by_quarter = std::move(quarters);
  t.last_seen = last_seen;
  return t;
}

TEST(ThemePriority, QuartersAndTheirPredecessors) {
  EXPECT_EQ(QuarterOfDay(kAsOf), "2026-Q4");
  EXPECT_EQ(QuarterOfDay(absl::CivilDay(2026, 1, 1)), "2026-Q1");
  EXPECT_EQ(PreviousQuarter("2026-Q1"), "2025-Q4");
  EXPECT_EQ(PreviousQuarter("2026-Q3"), "2026-Q2");
  EXPECT_EQ(PreviousQuarter("nonsense"), "");
}

TEST(ThemePriority, BiggerGrowingCostlierThemesComeFirstAndTheScoreExplainsItself) {
  ThemeSummary small = Theme(1, 4, {{"NA", 2}, {"EMEA", 2}}, {{"2026-Q4", 4}});
  ThemeSummary big = Theme(2, 40, {{"NA", 10}, {"EMEA", 10}, {"APAC", 10}, {"LATAM", 10}},
                           {{"2026-Q3", 10}, {"2026-Q4", 30}});
  big.lost_deals = 3;
  big.amount_at_stake = 450000;
  PrioritizedThemes p = Prioritize({small, big}, kAsOf, 4, 2);
  ASSERT_EQ(p.global.size(), 2u);
  EXPECT_EQ(p.global[0].theme.id, 2);
  EXPECT_EQ(p.global[0].this_quarter, 30);
  EXPECT_EQ(p.global[0].last_quarter, 10);
  EXPECT_EQ(p.global[0].why,
            "40 mentions, 30 this quarter vs 10 last, 3 lost deals (450k at stake), "
            "4 regions, 2 segments, last seen 5 days ago");
  EXPECT_NEAR(p.global[0].score,
              p.global[0].mentions_part + p.global[0].value_part + p.global[0].breadth_part +
                  p.global[0].recency_part + p.global[0].trend_part,
              1e-12);
  EXPECT_NEAR(p.global[0].trend_part, 0.5 * 2.0, 1e-12);  // +200%, the clamp's maximum.
}

TEST(ThemePriority, TrendComparesThePaceOfThePartialQuarterWithTheLastOne) {
  // As of 2026-11-25, 56 of Q4's 92 days have passed: 12 mentions so far is a pace of
  // 12 / (56 / 92) = 19.7 per quarter, against 10 last quarter.
  ThemeSummary t = Theme(1, 22, {{"NA", 22}}, {{"2026-Q3", 10}, {"2026-Q4", 12}});
  PrioritizedThemes p = Prioritize({t}, kAsOf, 1, 1);
  const PrioritizedTheme& only = p.global.empty() ? p.regional.at(0) : p.global[0];
  EXPECT_NEAR(only.trend_part, 0.5 * (12.0 / (56.0 / 92.0) - 10.0) / 10.0, 1e-12);
  // On a quarter's last day the pace is the count itself.
  p = Prioritize({t}, absl::CivilDay(2026, 12, 31), 1, 1);
  const PrioritizedTheme& last_day = p.global.empty() ? p.regional.at(0) : p.global[0];
  EXPECT_NEAR(last_day.trend_part, 0.5 * (12.0 - 10.0) / 10.0, 1e-12);
}

TEST(ThemePriority, ThinThemesAreEmergingUnlessTagged) {
  ThemeSummary thin = Theme(1, 2, {{"NA", 1}, {"EMEA", 1}}, {{"2026-Q4", 2}});
  ThemeSummary tagged = Theme(2, 1, {{"NA", 1}}, {{"2026-Q4", 1}});
  tagged.tagged = true;
  ThemeSummary enough = Theme(3, 3, {{"NA", 1}, {"EMEA", 2}}, {{"2026-Q4", 3}});
  PrioritizedThemes p = Prioritize({thin, tagged, enough}, kAsOf, 2, 1);
  EXPECT_EQ(p.min_mentions, 3);
  ASSERT_EQ(p.emerging.size(), 1u);
  EXPECT_EQ(p.emerging[0].theme.id, 1);
  ASSERT_EQ(p.All().size(), 2u);
  EXPECT_EQ(p.emerging[0].why.substr(0, 11), "2 mentions,");
  PriorityOptions keep_all;
  keep_all.min_mentions = 1;
  EXPECT_TRUE(Prioritize({thin, tagged, enough}, kAsOf, 2, 1, keep_all).emerging.empty());
}

TEST(ThemePriority, AThemeLoudInOneRegionIsRegionalAndRankedOnItsOwn) {
  ThemeSummary emea = Theme(1, 10, {{"EMEA", 8}, {"NA", 2}}, {{"2026-Q4", 10}});
  ThemeSummary global = Theme(2, 6, {{"EMEA", 2}, {"NA", 2}, {"APAC", 2}}, {{"2026-Q4", 6}});
  ThemeSummary few = Theme(3, 3, {{"LATAM", 3}}, {{"2026-Q4", 3}});  // Too few to tell.
  PrioritizedThemes p = Prioritize({emea, global, few}, kAsOf, 4, 2);
  ASSERT_EQ(p.regional.size(), 1u);
  EXPECT_EQ(p.regional[0].theme.id, 1);
  EXPECT_TRUE(p.regional[0].regional);
  EXPECT_EQ(p.regional[0].concentrated_in, "region EMEA");
  ASSERT_EQ(p.global.size(), 2u);
  EXPECT_EQ(p.global[0].theme.id, 2);  // The loud regional theme does not crowd it out.
}

TEST(ThemePriority, ThemesInConsecutiveQuartersAreFlaggedAsRecurring) {
  ThemeSummary recurring =
      Theme(1, 9, {{"NA", 5}, {"EMEA", 4}}, {{"2025-Q4", 3}, {"2026-Q1", 4}, {"2026-Q3", 2}});
  ThemeSummary gap = Theme(2, 6, {{"NA", 3}, {"EMEA", 3}}, {{"2026-Q1", 3}, {"2026-Q3", 3}});
  ThemeSummary thin = Theme(3, 4, {{"NA", 2}, {"EMEA", 2}}, {{"2026-Q3", 1}, {"2026-Q4", 3}});
  PrioritizedThemes p = Prioritize({recurring, gap, thin}, kAsOf, 2, 2);
  ASSERT_EQ(p.global.size(), 3u);  // None regional: every theme is checked below.
  for (const PrioritizedTheme& t : p.global) {
    if (t.theme.id == 1) {
      EXPECT_THAT(t.recurring_quarters, ElementsAre("2025-Q4", "2026-Q1"));
    } else {
      EXPECT_TRUE(t.recurring_quarters.empty()) << t.theme.id;
    }
  }
}

TEST(ThemePriority, EqualScoresAreOrderedByThemeId) {
  ThemeSummary a = Theme(7, 5, {{"NA", 3}, {"EMEA", 2}}, {{"2026-Q4", 5}});
  ThemeSummary b = a;
  b.id = 3;
  PrioritizedThemes p = Prioritize({a, b}, kAsOf, 2, 2);
  ASSERT_EQ(p.global.size(), 2u);
  EXPECT_EQ(p.global[0].theme.id, 3);
  EXPECT_EQ(p.global[1].theme.id, 7);
}

}  // namespace
}  // namespace fieldloop::pipeline
