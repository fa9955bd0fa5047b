#include "pipeline/board_renderer.h"

#include <string>

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
  EXPECT_THAT(board, HasSubstr("in 2026-Q3, 2026-Q4"));
  // Table cells escape '|'.
  EXPECT_THAT(board, HasSubstr("| monthly \\| billing |"));
  EXPECT_THAT(board, HasSubstr("> \"Could we offer monthly billing?\" (fb-7)"));
}

TEST(BoardRenderer, SameInputsGiveByteIdenticalBoards) {
  EXPECT_EQ(RenderBoard(Inputs()), RenderBoard(Inputs()));
}

}  // namespace
}  // namespace fieldloop::pipeline
