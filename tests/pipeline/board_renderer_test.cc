#include "pipeline/board_renderer.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace fieldloop::pipeline {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

BoardInputs Inputs() {
  BoardInputs in;
  in.initiative = "q3-push";
  in.as_of = absl::CivilDay(2026, 11, 25);
  in.feedback_events = 240;
  in.call_transcripts = 70;
  in.content_assets = 14;
  in.onboarding_rows = 8;
  ThemeSummary t;
  t.id = 4;
  t.label = "monthly | billing";
  t.mentions = 20;
  t.by_region = {{"LATAM", 12}, {"NA", 8}};
  t.by_segment = {{"SMB", 19}, {"MidMarket", 1}};
  t.by_quarter = {{"2026-Q3", 8}, {"2026-Q4", 12}};
  t.first_seen = 1785000000;
  t.last_seen = 1795132800;
  t.quotes = {{"fb-7", "Could we offer monthly billing?", 0.9}};
  in.themes = Prioritize({t}, in.as_of, 4, 3);
  RefreshTask task;
  task.task_key = "4/new";
  task.theme_id = 4;
  task.theme = t.label;
  task.action = "create";
  task.format = "short deck";
  task.owner = "unassigned";
  task.due = "2026-12-25";
  task.priority = "P2";
  task.reason = "no asset covers this theme";
  in.tasks = {task};
  return in;
}

TEST(BoardRenderer, NoFeedbackGivesAStubNamingTheMissingInputs) {
  BoardInputs in;
  in.initiative = "empty-one";
  in.as_of = absl::CivilDay(2026, 11, 25);
  in.previous_plan_exists = true;
  ASSERT_FALSE(HasFeedback(in));
  const std::string board = RenderBoard(in);
  EXPECT_THAT(board, HasSubstr("# Enablement action board: empty-one"));
  EXPECT_THAT(board, HasSubstr("- feedback_stream"));
  EXPECT_THAT(board, HasSubstr("- win_loss_notes"));
  EXPECT_THAT(board, HasSubstr("No content refresh plan was generated."));
  EXPECT_THAT(board, HasSubstr("content_refresh.csv from an earlier run was left as it is"));
  EXPECT_THAT(board, Not(HasSubstr("## Prioritized fixes")));
}

TEST(BoardRenderer, MissingWinLossIsNamedAndTheRestStillWorks) {
  const std::string board = RenderBoard(Inputs());
  EXPECT_THAT(board, HasSubstr("- Missing: win_loss_notes."));
  EXPECT_THAT(board, HasSubstr("No win/loss notes were provided."));
  for (const char* section :
       {"## Summary", "## Prioritized fixes", "## Regional themes", "## Theme details",
        "## Content gaps", "## Stale content", "## Ramp risks",
        "## Recurring themes for product-gap / ICP review",
        "## Top objections for discovery and product", "## Follow-up checklist"}) {
    EXPECT_THAT(board, HasSubstr(section));
  }
  // The SMB-heavy theme is regional, with its concentration named.
  EXPECT_THAT(board, HasSubstr("(segment SMB)"));
  // Recurring in Q3 and Q4.
  EXPECT_THAT(board, HasSubstr("- **monthly | billing**: 2026-Q3, 2026-Q4 (20 mentions)"));
  // Table cells escape '|'.
  EXPECT_THAT(board, HasSubstr("| monthly \\| billing |"));
  EXPECT_THAT(board, HasSubstr("> \"Could we offer monthly billing?\" (fb-7)"));
}

TEST(BoardRenderer, ThinThemesAreListedAsEmergingSignalsWithoutATask) {
  BoardInputs in = Inputs();
  ThemeSummary thin;
  thin.id = 9;
  thin.label = "kiwi / orchard";
  thin.mentions = 1;
  thin.by_region = {{"APAC", 1}};
  thin.by_segment = {{"SMB", 1}};
  thin.last_seen = 1795132800;
  thin.quotes = {{"fb-9", "Kiwi orchards want offline mode.", 0.9}};
  ThemeSummary main = in.themes.regional.at(0).theme;
  in.themes = Prioritize({main, thin}, in.as_of, 4, 3);
  const std::string board = RenderBoard(in);
  EXPECT_THAT(board, HasSubstr("## Emerging signals\n\nFewer than 3 mentions each"));
  EXPECT_THAT(board, HasSubstr("- **kiwi / orchard**: 1 mention, 1 region, 1 segment, last seen "
                               "5 days ago (fb-9)"));
  EXPECT_THAT(board, HasSubstr("0 global themes, 1 regional, 1 emerging"));
  EXPECT_THAT(board, Not(HasSubstr("### kiwi / orchard")));  // No theme details.
}

TEST(BoardRenderer, AFloodOfOneOffThemesIsCountedNotListed) {
  BoardInputs in = Inputs();
  std::vector<ThemeSummary> themes = {in.themes.regional.at(0).theme};
  const size_t n = kMaxEmergingListed + 12;
  for (size_t i = 0; i < n; ++i) {
    ThemeSummary thin;
    thin.id = 100 + static_cast<ThemeId>(i);
    thin.label = absl::StrCat("oneoff", i);
    thin.mentions = 1;
    thin.by_region = {{"APAC", 1}};
    thin.by_segment = {{"SMB", 1}};
    thin.last_seen = 1795132800 - static_cast<int64_t>(i) * 86400;  // Older as i grows.
    thin.quotes = {{absl::StrCat("fb-", 100 + i), "gibberish", 0.9}};
    themes.push_back(thin);
  }
  in.themes = Prioritize(themes, in.as_of, 4, 3);
  ASSERT_EQ(in.themes.emerging.size(), n);
  const std::string board = RenderBoard(in);
  EXPECT_THAT(board, HasSubstr(absl::StrCat("1 regional, ", n, " emerging")));
  // The most recent ones are named, the oldest are only counted.
  EXPECT_THAT(board, HasSubstr("- **oneoff0**: 1 mention"));
  EXPECT_THAT(board, HasSubstr(absl::StrCat("- **oneoff", kMaxEmergingListed - 1, "**")));
  EXPECT_THAT(board, Not(HasSubstr(absl::StrCat("- **oneoff", kMaxEmergingListed, "**"))));
  EXPECT_THAT(board, HasSubstr("- and 12 more, lower by priority score"));
}

TEST(BoardRenderer, LinkedAssetsAreShownAndFreshlyCoveredThemesAreCalledOut) {
  BoardInputs in = Inputs();
  LinkedAsset deck;
  deck.asset_id = "cnt-3";
  deck.title = "Billing FAQ";
  deck.last_updated = "2026-10-06";
  in.linked_assets[4] = {deck};
  std::string board = RenderBoard(in);
  EXPECT_THAT(board, HasSubstr("- Linked assets: Billing FAQ (cnt-3, fresh, updated 2026-10-06)"));
  EXPECT_THAT(board, HasSubstr("Already covered by fresh content, so no task: **monthly | "
                               "billing** (20 mentions; Billing FAQ, cnt-3)."));
  // One stale covering asset: a refresh is the fix, not a call-out.
  in.linked_assets[4][0].freshness.stale = true;
  board = RenderBoard(in);
  EXPECT_THAT(board, HasSubstr("(cnt-3, stale, updated 2026-10-06)"));
  EXPECT_THAT(board, Not(HasSubstr("Already covered by fresh content")));
}

TEST(BoardRenderer, FixesAreListedByPriorityThenByTheirThemeScore) {
  ThemeSummary a, b;
  a.id = 1;
  a.mentions = 3;
  b.id = 2;
  b.mentions = 30;  // Scores higher.
  for (ThemeSummary* t : {&a, &b}) {
    t->by_region = {{"NA", t->mentions / 2}, {"EMEA", t->mentions - t->mentions / 2}};
    t->by_segment = {{"SMB", t->mentions / 2}, {"Enterprise", t->mentions - t->mentions / 2}};
  }
  const PrioritizedThemes themes = Prioritize({a, b}, absl::CivilDay(2026, 11, 25), 2, 2);
  RefreshTask p3, low, high;
  p3.theme_id = 2;
  p3.priority = "P3";
  low.theme_id = 1;
  low.priority = "P2";
  high.theme_id = 2;
  high.priority = "P2";
  const std::vector<RefreshTask> order = InBoardOrder(themes, {p3, low, high});
  ASSERT_EQ(order.size(), 3u);
  EXPECT_EQ(order[0].theme_id, 2);
  EXPECT_EQ(order[0].priority, "P2");
  EXPECT_EQ(order[1].theme_id, 1);
  EXPECT_EQ(order[2].priority, "P3");
}

TEST(BoardRenderer, SameInputsGiveByteIdenticalBoards) {
  EXPECT_EQ(RenderBoard(Inputs()), RenderBoard(Inputs()));
}

TEST(BoardRenderer, RecordTextCannotInjectHtmlOrBreakTheTable) {
  BoardInputs in = Inputs();
  pipeline::Quote q{"fb-<b>", "<script>alert(1)</script> | pipe\nnewline", 0.5};
  in.themes.regional.at(0).theme.quotes = {q};
  in.tasks[0].owner = "<img src=x onerror=alert(1)>";
  const std::string board = RenderBoard(in);
  EXPECT_THAT(board, Not(HasSubstr("<script>")));
  EXPECT_THAT(board, Not(HasSubstr("<img")));
  EXPECT_THAT(board, HasSubstr("&lt;script&gt;alert(1)&lt;/script&gt; | pipe newline"));
  EXPECT_THAT(board, HasSubstr("(fb-&lt;b&gt;)"));
  EXPECT_THAT(board, HasSubstr("| &lt;img src=x onerror=alert(1)&gt; |"));
}

}  // namespace
}  // namespace fieldloop::pipeline
