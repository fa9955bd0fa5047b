#include "pipeline/plan_import.h"

#include <optional>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "pipeline/refresh_plan.h"

namespace fieldloop::pipeline {
namespace {

using ::testing::HasSubstr;

ParsedPlan Parse(const std::string& csv) {
  absl::StatusOr<ParsedPlan> plan = ParsePlanCsv(csv);
  EXPECT_TRUE(plan.ok()) << plan.status();
  return plan.ok() ? *std::move(plan) : ParsedPlan{};
}

absl::Status WholeFileError(const std::string& csv) { return ParsePlanCsv(csv).status(); }

TEST(PlanImport, GeneratedCsvParsesBackToTheSameEdits) {
  std::vector<RefreshTask> tasks(4);
  tasks[0].task_key = "3/asset-1";
  tasks[0].owner = "Dana \"DJ\" Ruiz, Enablement";
  tasks[0].due = "2026-03-01";
  tasks[0].status = "open";
  tasks[0].asset = "Battlecard, \"v2\"";
  tasks[0].reason = "mentioned 12 times\nstale since 2025";
  tasks[1].task_key = "3/new";
  tasks[1].owner = "unassigned";
  tasks[1].due = "2026-02-28";
  tasks[1].status = "in_progress";
  tasks[2].task_key = "7/asset-9";
  tasks[2].owner = "@ops-team";
  tasks[2].due = "2024-02-29";
  tasks[2].status = "done";
  tasks[3].task_key = "8/new";
  tasks[3].owner = "Lee";
  tasks[3].due = "2026-12-31";
  tasks[3].status = "wont_do";
  const std::string csv = RenderRefreshPlanCsv(tasks);
  ASSERT_EQ(csv.substr(0, csv.find("\r\n")), kRefreshPlanHeader);

  ParsedPlan plan = Parse(csv);
  EXPECT_TRUE(plan.errors.empty());
  ASSERT_EQ(plan.edits.size(), tasks.size());
  for (size_t i = 0; i < tasks.size(); ++i) {
    SCOPED_TRACE(tasks[i].task_key);
    EXPECT_EQ(plan.edits[i].task_key, tasks[i].task_key);
    EXPECT_EQ(plan.edits[i].status, tasks[i].status);
    EXPECT_EQ(plan.edits[i].owner, tasks[i].owner);
    EXPECT_EQ(plan.edits[i].due, tasks[i].due);
  }
  EXPECT_EQ(plan.edits[0].line, 2);
  EXPECT_EQ(plan.edits[1].line, 4);  // The reason of the row before spans two lines.
}

TEST(PlanImport, FindsColumnsByNameInAnyOrder) {
  ParsedPlan plan = Parse("due,owner,status,task_key\n2026-05-01,Ana,done,1/a\n");
  ASSERT_EQ(plan.edits.size(), 1u);
  EXPECT_EQ(plan.edits[0].task_key, "1/a");
  EXPECT_EQ(plan.edits[0].status, "done");
  EXPECT_EQ(plan.edits[0].owner, "Ana");
  EXPECT_EQ(plan.edits[0].due, "2026-05-01");
}

TEST(PlanImport, MatchesHeaderNamesTrimmedAndCaseInsensitive) {
  ParsedPlan plan = Parse(" Task_Key , STATUS ,Owner\n1/a,done,Ana\n");
  ASSERT_EQ(plan.edits.size(), 1u);
  EXPECT_EQ(plan.edits[0].task_key, "1/a");
  EXPECT_EQ(plan.edits[0].status, "done");
  EXPECT_EQ(plan.edits[0].owner, "Ana");
}

TEST(PlanImport, MissingOptionalColumnsAreNotGiven) {
  ParsedPlan plan = Parse("task_key\n1/a\n");
  EXPECT_TRUE(plan.errors.empty());
  ASSERT_EQ(plan.edits.size(), 1u);
  EXPECT_EQ(plan.edits[0].status, std::nullopt);
  EXPECT_EQ(plan.edits[0].owner, std::nullopt);
  EXPECT_EQ(plan.edits[0].due, std::nullopt);
}

TEST(PlanImport, EmptyCellsAreNotGivenAndMissingTrailingCellsAreEmpty) {
  ParsedPlan plan = Parse("task_key,status,owner,due\n1/a, ,  ,\n2/b,done\n");
  EXPECT_TRUE(plan.errors.empty());
  ASSERT_EQ(plan.edits.size(), 2u);
  EXPECT_EQ(plan.edits[0].status, std::nullopt);
  EXPECT_EQ(plan.edits[0].owner, std::nullopt);
  EXPECT_EQ(plan.edits[0].due, std::nullopt);
  EXPECT_EQ(plan.edits[1].status, "done");
  EXPECT_EQ(plan.edits[1].due, std::nullopt);
}

TEST(PlanImport, IgnoresUnknownColumns) {
  ParsedPlan plan = Parse("notes,task_key,Comment\n\"x, y\",1/a,z\n");
  EXPECT_TRUE(plan.errors.empty());
  ASSERT_EQ(plan.edits.size(), 1u);
  EXPECT_EQ(plan.edits[0].task_key, "1/a");
}

TEST(PlanImport, NormalizesStatusSpellings) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"open", "open"},
      {" OPEN ", "open"},
      {"in_progress", "in_progress"},
      {"In Progress", "in_progress"},
      {"in-progress", "in_progress"},
      {"Done", "done"},
      {"wont_do", "wont_do"},
      {"Won't Do", "wont_do"},
      {"wont do", "wont_do"},
      {"won\xE2\x80\x99t do", "wont_do"},
      {"WON\xE2\x80\x99T DO", "wont_do"}};
  for (const auto& [cell, status] : cases) {
    SCOPED_TRACE(cell);
    ParsedPlan plan = Parse("task_key,status\n1/a,\"" + cell + "\"\n");
    EXPECT_TRUE(plan.errors.empty());
    ASSERT_EQ(plan.edits.size(), 1u);
    EXPECT_EQ(plan.edits[0].status, status);
  }
}

TEST(PlanImport, UnknownStatusIsARowErrorListingTheAllowedValues) {
  for (const std::string cell : {"closed", "in__progress", "won t do", "done!"}) {
    SCOPED_TRACE(cell);
    ParsedPlan plan = Parse("task_key,status\n1/a," + cell + "\n");
    EXPECT_TRUE(plan.edits.empty());
    ASSERT_EQ(plan.errors.size(), 1u);
    EXPECT_EQ(plan.errors[0].line, 2);
    EXPECT_EQ(plan.errors[0].field, "status");
    EXPECT_THAT(plan.errors[0].message, HasSubstr(cell));
    for (const char* allowed : {"open", "in_progress", "done", "wont_do"}) {
      EXPECT_THAT(plan.errors[0].message, HasSubstr(allowed));
    }
  }
}

TEST(PlanImport, DueMustBeWrittenYyyyMmDd) {
  for (const std::string cell : {"03/01/2026", "2026-3-1", "2026-03-01T00:00", "soon"}) {
    SCOPED_TRACE(cell);
    ParsedPlan plan = Parse("task_key,due\n1/a," + cell + "\n");
    EXPECT_TRUE(plan.edits.empty());
    ASSERT_EQ(plan.errors.size(), 1u);
    EXPECT_EQ(plan.errors[0].field, "due");
    EXPECT_THAT(plan.errors[0].message, HasSubstr(cell));
  }
}

TEST(PlanImport, DueMustBeARealDate) {
  ParsedPlan plan = Parse("task_key,due\n1/a,2026-02-30\n2/b,2025-02-29\n3/c,2024-02-29\n");
  ASSERT_EQ(plan.errors.size(), 2u);
  EXPECT_EQ(plan.errors[0].line, 2);
  EXPECT_EQ(plan.errors[0].field, "due");
  EXPECT_EQ(plan.errors[1].line, 3);
  ASSERT_EQ(plan.edits.size(), 1u);
  EXPECT_EQ(plan.edits[0].due, "2024-02-29");
}

TEST(PlanImport, TrimsOwner) {
  ParsedPlan plan = Parse("task_key,owner\n1/a,\"  Ana Ruiz \"\n");
  ASSERT_EQ(plan.edits.size(), 1u);
  EXPECT_EQ(plan.edits[0].owner, "Ana Ruiz");
}

TEST(PlanImport, OwnerLosesTheQuoteThatDefusesAFormula) {
  ParsedPlan plan = Parse(
      "task_key,owner\n1/a,'=SUM(A1)\n2/b,'+1\n3/c,'-x\n4/d,'@team\n"
      "5/e,'quoted\n6/f,O'Brien\n7/g,'\n8/h,''=x\n");
  EXPECT_TRUE(plan.errors.empty());
  ASSERT_EQ(plan.edits.size(), 8u);
  EXPECT_EQ(plan.edits[0].owner, "=SUM(A1)");
  EXPECT_EQ(plan.edits[1].owner, "+1");
  EXPECT_EQ(plan.edits[2].owner, "-x");
  EXPECT_EQ(plan.edits[3].owner, "@team");
  EXPECT_EQ(plan.edits[4].owner, "'quoted");
  EXPECT_EQ(plan.edits[5].owner, "O'Brien");
  EXPECT_EQ(plan.edits[6].owner, "'");
  EXPECT_EQ(plan.edits[7].owner, "''=x");  // Only one guard quote, and only before = + - @.
}

TEST(PlanImport, EmptyTaskKeyIsARowError) {
  ParsedPlan plan = Parse("task_key,status\n  ,done\n1/a,done\n");
  ASSERT_EQ(plan.errors.size(), 1u);
  EXPECT_EQ(plan.errors[0].line, 2);
  EXPECT_EQ(plan.errors[0].field, "task_key");
  ASSERT_EQ(plan.edits.size(), 1u);
  EXPECT_EQ(plan.edits[0].task_key, "1/a");
}

TEST(PlanImport, DuplicateTaskKeyKeepsTheFirstRow) {
  ParsedPlan plan = Parse("task_key,status\n1/a,done\n2/b,open\n 1/a ,wont_do\n");
  ASSERT_EQ(plan.edits.size(), 2u);
  EXPECT_EQ(plan.edits[0].task_key, "1/a");
  EXPECT_EQ(plan.edits[0].status, "done");
  EXPECT_EQ(plan.edits[1].task_key, "2/b");
  ASSERT_EQ(plan.errors.size(), 1u);
  EXPECT_EQ(plan.errors[0].line, 4);
  EXPECT_EQ(plan.errors[0].field, "task_key");
  EXPECT_EQ(plan.errors[0].message, "duplicate of line 2");
}

TEST(PlanImport, DuplicateOfARejectedRowIsStillADuplicate) {
  ParsedPlan plan = Parse("task_key,status\n1/a,closed\n1/a,done\n");
  EXPECT_TRUE(plan.edits.empty());
  ASSERT_EQ(plan.errors.size(), 2u);
  EXPECT_EQ(plan.errors[0].field, "status");
  EXPECT_EQ(plan.errors[1].field, "task_key");
  EXPECT_EQ(plan.errors[1].message, "duplicate of line 2");
}

TEST(PlanImport, RowWithAnErrorContributesNothingAndLaterRowsStillParse) {
  ParsedPlan plan = Parse(
      "task_key,status,owner,due\n"
      "1/a,done,Ana,2026-02-30\n"  // Good status and owner, bad due: nothing kept.
      "2/b,nope,Bo,bad\n"          // Two errors, both reported.
      "3/c,open,Cy,2026-04-01\n");
  ASSERT_EQ(plan.errors.size(), 3u);
  EXPECT_EQ(plan.errors[0].line, 2);
  EXPECT_EQ(plan.errors[0].field, "due");
  EXPECT_EQ(plan.errors[1].line, 3);
  EXPECT_EQ(plan.errors[1].field, "status");
  EXPECT_EQ(plan.errors[2].line, 3);
  EXPECT_EQ(plan.errors[2].field, "due");
  ASSERT_EQ(plan.edits.size(), 1u);
  EXPECT_EQ(plan.edits[0].task_key, "3/c");
  EXPECT_EQ(plan.edits[0].owner, "Cy");
}

TEST(PlanImport, RowWithMoreCellsThanTheHeaderIsALineError) {
  ParsedPlan plan = Parse("task_key,owner\n1/a,Ruiz, Ana\n2/b,Bo\n");
  ASSERT_EQ(plan.errors.size(), 1u);
  EXPECT_EQ(plan.errors[0].line, 2);
  EXPECT_EQ(plan.errors[0].field, "line");
  EXPECT_THAT(plan.errors[0].message, HasSubstr("3 cells"));
  ASSERT_EQ(plan.edits.size(), 1u);
  EXPECT_EQ(plan.edits[0].task_key, "2/b");
}

TEST(PlanImport, KeyOfARowWithTooManyCellsIsNotTaken) {
  ParsedPlan plan = Parse("task_key,owner\n1/a,Ruiz, Ana\n1/a,Ana Ruiz\n");
  ASSERT_EQ(plan.errors.size(), 1u);
  EXPECT_EQ(plan.errors[0].field, "line");
  ASSERT_EQ(plan.edits.size(), 1u);
  EXPECT_EQ(plan.edits[0].line, 3);
  EXPECT_EQ(plan.edits[0].owner, "Ana Ruiz");
}

TEST(PlanImport, SkipsBlankLinesAndEmptyRows) {
  ParsedPlan plan = Parse("\n,,\ntask_key,status\n\n1/a,done\n,\n   , \n2/b,open\n\n");
  EXPECT_TRUE(plan.errors.empty());
  ASSERT_EQ(plan.edits.size(), 2u);
  EXPECT_EQ(plan.edits[0].line, 5);
  EXPECT_EQ(plan.edits[1].line, 8);
}

TEST(PlanImport, IgnoresBlankHeaderCells) {
  ParsedPlan plan = Parse("task_key,, ,status\n1/a,x,y,done\n");
  EXPECT_TRUE(plan.errors.empty());
  ASSERT_EQ(plan.edits.size(), 1u);
  EXPECT_EQ(plan.edits[0].status, "done");
}

TEST(PlanImport, ReadsAFileWithAByteOrderMark) {
  ParsedPlan plan = Parse("\xEF\xBB\xBFtask_key,status\r\n1/a,done\r\n");
  EXPECT_TRUE(plan.errors.empty());
  ASSERT_EQ(plan.edits.size(), 1u);
  EXPECT_EQ(plan.edits[0].task_key, "1/a");
}

TEST(PlanImport, ReadsQuotedCellsWithCommasNewlinesAndDoubledQuotes) {
  ParsedPlan plan = Parse(
      "task_key,owner,reason,status\n"
      "\"1/a\",\"Ruiz, Ana \"\"AR\"\"\",\"line one\nline two, still\",done\n"
      "2/b,Bo,,open\n");
  EXPECT_TRUE(plan.errors.empty());
  ASSERT_EQ(plan.edits.size(), 2u);
  EXPECT_EQ(plan.edits[0].task_key, "1/a");
  EXPECT_EQ(plan.edits[0].owner, "Ruiz, Ana \"AR\"");
  EXPECT_EQ(plan.edits[0].status, "done");
  EXPECT_EQ(plan.edits[1].line, 4);
}

TEST(PlanImport, ReadsCrlfLineEnds) {
  ParsedPlan plan = Parse("task_key,status,due\r\n1/a,done,2026-01-31\r\n2/b,open,\r\n");
  EXPECT_TRUE(plan.errors.empty());
  ASSERT_EQ(plan.edits.size(), 2u);
  EXPECT_EQ(plan.edits[0].due, "2026-01-31");
  EXPECT_EQ(plan.edits[1].status, "open");
  EXPECT_EQ(plan.edits[1].line, 3);
}

TEST(PlanImport, NoTaskKeyColumnIsInvalidArgument) {
  absl::Status s = WholeFileError("theme,status,owner\nx,done,Ana\n");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("task_key"));
}

TEST(PlanImport, DuplicateColumnIsInvalidArgument) {
  absl::Status s = WholeFileError("task_key,Status, status \n1/a,done,open\n");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("'status' appears twice"));
}

TEST(PlanImport, EmptyFileIsInvalidArgument) {
  for (const std::string csv : {"", "\n\r\n  \n", "\xEF\xBB\xBF"}) {
    absl::Status s = WholeFileError(csv);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(s.message(), HasSubstr("no header"));
  }
}

TEST(PlanImport, UnterminatedQuoteIsInvalidArgument) {
  absl::Status s = WholeFileError("task_key,owner\n1/a,Ana\n2/b,\"Bo\n3/c,Cy\n");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("line 3: unterminated quoted field"));
}

}  // namespace
}  // namespace fieldloop::pipeline
