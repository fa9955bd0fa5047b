#include "pipeline/task_edits.h"

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "pipeline/refresh_plan.h"
#include "pipeline/task_state.pb.h"

namespace fieldloop::pipeline {
namespace {

using ::testing::HasSubstr;

TaskEdit Edit(const std::string& key, std::optional<std::string> status,
              std::optional<std::string> owner, std::optional<std::string> due) {
  TaskEdit edit;
  edit.task_key = key;
  edit.status = std::move(status);
  edit.owner = std::move(owner);
  edit.due = std::move(due);
  return edit;
}

RefreshTask Task(const std::string& key, const std::string& due,
                 const std::string& owner = "Dana") {
  RefreshTask task;
  task.task_key = key;
  task.due = due;
  task.owner = owner;
  task.status = "open";
  return task;
}

state::TaskRecord Record(const std::string& key, const std::string& planned_due) {
  state::TaskRecord record;
  record.set_task_key(key);
  record.set_planned_due(planned_due);
  return record;
}

// ---------------------------------------------------------------------------------------
// IsTaskStatus

TEST(IsTaskStatus, AcceptsExactlyTheFourStatuses) {
  EXPECT_TRUE(IsTaskStatus("open"));
  EXPECT_TRUE(IsTaskStatus("in_progress"));
  EXPECT_TRUE(IsTaskStatus("done"));
  EXPECT_TRUE(IsTaskStatus("wont_do"));
}

TEST(IsTaskStatus, RejectsOtherSpellingsAndEmpty) {
  for (const char* status :
       {"", "Open", "OPEN", "closed", "in progress", "in-progress", "done ", " done", "wontdo"}) {
    EXPECT_FALSE(IsTaskStatus(status)) << "'" << status << "'";
  }
}

// ---------------------------------------------------------------------------------------
// ValidateTaskEdit

TEST(ValidateTaskEdit, AcceptsWellFormedEdits) {
  EXPECT_TRUE(ValidateTaskEdit(Edit("3/asset-1", "done", "Dana Ruiz", "2026-03-01")).ok());
  EXPECT_TRUE(ValidateTaskEdit(Edit("3/new", std::nullopt, std::nullopt, std::nullopt)).ok());
  EXPECT_TRUE(ValidateTaskEdit(Edit("0/new", "wont_do", std::nullopt, "2024-02-29")).ok());
  EXPECT_TRUE(
      ValidateTaskEdit(Edit("12/a", std::nullopt, std::string(200, 'x'), "2026-12-31")).ok());
}

TEST(ValidateTaskEdit, RejectsTaskKeysWithoutANumericThemePrefix) {
  for (const char* key : {"", "abc", "x/new"}) {
    const absl::Status status = ValidateTaskEdit(Edit(key, "open", std::nullopt, std::nullopt));
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << "'" << key << "'";
    EXPECT_THAT(status.message(), HasSubstr("task_key")) << "'" << key << "'";
  }
}

TEST(ValidateTaskEdit, RejectsAnUnknownStatus) {
  for (const char* bad : {"closed", "", "Done"}) {
    const absl::Status status = ValidateTaskEdit(Edit("3/new", bad, std::nullopt, std::nullopt));
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << "'" << bad << "'";
    EXPECT_THAT(status.message(), HasSubstr("status")) << "'" << bad << "'";
  }
}

TEST(ValidateTaskEdit, RejectsAnEmptyOwner) {
  const absl::Status status = ValidateTaskEdit(Edit("3/new", std::nullopt, "", std::nullopt));
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("owner"));
}

TEST(ValidateTaskEdit, RejectsAnOwnerLongerThan200Bytes) {
  const absl::Status status =
      ValidateTaskEdit(Edit("3/new", std::nullopt, std::string(201, 'x'), std::nullopt));
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("owner"));
}

TEST(ValidateTaskEdit, RejectsAnOwnerWithControlCharacters) {
  for (const std::string owner :
       {std::string("Dana\nRuiz"), std::string("\tDana"), std::string("Dana\x7f"),
        std::string("Da\0na", 5), std::string("Dana\r")}) {
    const absl::Status status = ValidateTaskEdit(Edit("3/new", std::nullopt, owner, std::nullopt));
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << owner;
    EXPECT_THAT(status.message(), HasSubstr("owner")) << owner;
  }
}

TEST(ValidateTaskEdit, RejectsADueThatIsNotARealYyyyMmDdDate) {
  for (const char* due : {"2026-2-1", "2026-02-30", "2025-02-29", "2026-13-01", "tomorrow"}) {
    const absl::Status status = ValidateTaskEdit(Edit("3/new", std::nullopt, std::nullopt, due));
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << due;
    EXPECT_THAT(status.message(), HasSubstr("due")) << due;
  }
}

// ---------------------------------------------------------------------------------------
// ApplyTaskEdit

TEST(ApplyTaskEdit, WithoutOnlyChangesSetsEveryGivenField) {
  state::TaskRecord record;
  EXPECT_TRUE(ApplyTaskEdit(Edit("3/asset-1", "done", "Lee", "2026-04-01"),
                            /*only_changes=*/false, &record));
  EXPECT_EQ(record.task_key(), "3/asset-1");
  ASSERT_TRUE(record.has_status());
  EXPECT_EQ(record.status(), "done");
  ASSERT_TRUE(record.has_owner());
  EXPECT_EQ(record.owner(), "Lee");
  ASSERT_TRUE(record.has_due());
  EXPECT_EQ(record.due(), "2026-04-01");
}

TEST(ApplyTaskEdit, WithoutOnlyChangesSetsAValueEvenWhenItEqualsWhatWasShown) {
  state::TaskRecord record = Record("3/new", "2026-03-01");
  record.set_shown_status("in_progress");
  EXPECT_TRUE(ApplyTaskEdit(Edit("3/new", "in_progress", std::nullopt, std::nullopt),
                            /*only_changes=*/false, &record));
  ASSERT_TRUE(record.has_status());
  EXPECT_EQ(record.status(), "in_progress");
}

TEST(ApplyTaskEdit, LeavesUnsetFieldsAlone) {
  state::TaskRecord record = Record("3/new", "2026-03-01");
  record.set_owner("Kim");
  EXPECT_TRUE(ApplyTaskEdit(Edit("3/new", "done", std::nullopt, std::nullopt),
                            /*only_changes=*/false, &record));
  EXPECT_EQ(record.owner(), "Kim");
  EXPECT_FALSE(record.has_due());
  EXPECT_EQ(record.planned_due(), "2026-03-01");
}

TEST(ApplyTaskEdit, WithOnlyChangesIgnoresValuesEqualToWhatWasShownAndKeepsOthers) {
  state::TaskRecord record = Record("3/asset-1", "2026-03-01");
  record.set_shown_status("open");
  record.set_shown_owner("Dana");
  record.set_shown_due("2026-03-01");
  EXPECT_TRUE(ApplyTaskEdit(Edit("3/asset-1", "open", "Lee", "2026-03-01"),
                            /*only_changes=*/true, &record));
  EXPECT_FALSE(record.has_status());
  EXPECT_FALSE(record.has_due());
  ASSERT_TRUE(record.has_owner());
  EXPECT_EQ(record.owner(), "Lee");
}

TEST(ApplyTaskEdit, WithOnlyChangesAnUnchangedRowReportsNoChange) {
  state::TaskRecord record = Record("3/asset-1", "2026-03-01");
  record.set_shown_status("open");
  record.set_shown_owner("Dana");
  record.set_shown_due("2026-03-01");
  const state::TaskRecord before = record;
  EXPECT_FALSE(ApplyTaskEdit(Edit("3/asset-1", "open", "Dana", "2026-03-01"),
                             /*only_changes=*/true, &record));
  EXPECT_FALSE(record.has_status());
  EXPECT_FALSE(record.has_owner());
  EXPECT_FALSE(record.has_due());
  EXPECT_EQ(record.SerializeAsString(), before.SerializeAsString());
}

TEST(ApplyTaskEdit, WithOnlyChangesADifferentStatusAndDueAreKept) {
  state::TaskRecord record = Record("3/asset-1", "2026-03-01");
  record.set_shown_status("open");
  record.set_shown_owner("Dana");
  record.set_shown_due("2026-03-01");
  EXPECT_TRUE(ApplyTaskEdit(Edit("3/asset-1", "done", "Dana", "2026-03-20"),
                            /*only_changes=*/true, &record));
  EXPECT_EQ(record.status(), "done");
  EXPECT_EQ(record.due(), "2026-03-20");
  EXPECT_FALSE(record.has_owner());
}

TEST(ApplyTaskEdit, ReapplyingTheSameEditReportsNoChange) {
  state::TaskRecord record;
  const TaskEdit edit = Edit("3/new", "done", "Lee", "2026-04-01");
  EXPECT_TRUE(ApplyTaskEdit(edit, /*only_changes=*/false, &record));
  EXPECT_FALSE(ApplyTaskEdit(edit, /*only_changes=*/false, &record));
  EXPECT_EQ(record.status(), "done");
  EXPECT_EQ(record.owner(), "Lee");
  EXPECT_EQ(record.due(), "2026-04-01");
}

TEST(ApplyTaskEdit, AnEditWithNoFieldsReportsNoChange) {
  state::TaskRecord record;
  EXPECT_FALSE(ApplyTaskEdit(Edit("3/new", std::nullopt, std::nullopt, std::nullopt),
                             /*only_changes=*/false, &record));
  EXPECT_FALSE(record.has_status());
  EXPECT_FALSE(record.has_owner());
  EXPECT_FALSE(record.has_due());
}

// ---------------------------------------------------------------------------------------
// ResolveMergedThemes

ThemeId MergeInto5(ThemeId from, ThemeId theme) { return theme == from ? 5 : theme; }

TEST(ResolveMergedThemes, MovesAMergedThemesRecordToTheSurvivingKey) {
  state::TaskRecord record = Record("13/cnt-1", "2026-03-01");
  record.set_owner("Lee");
  const TaskRecords out =
      ResolveMergedThemes({{"13/cnt-1", record}}, [](ThemeId t) { return MergeInto5(13, t); });
  ASSERT_EQ(out.size(), 1u);
  ASSERT_EQ(out.count("5/cnt-1"), 1u);
  EXPECT_EQ(out.count("13/cnt-1"), 0u);
  EXPECT_EQ(out.at("5/cnt-1").task_key(), "5/cnt-1");
  EXPECT_EQ(out.at("5/cnt-1").owner(), "Lee");
  EXPECT_EQ(out.at("5/cnt-1").planned_due(), "2026-03-01");
}

TEST(ResolveMergedThemes, MovesCreateTaskRecordsToo) {
  const TaskRecords out = ResolveMergedThemes({{"13/new", Record("13/new", "2026-03-01")}},
                                              [](ThemeId t) { return MergeInto5(13, t); });
  ASSERT_EQ(out.count("5/new"), 1u);
  EXPECT_EQ(out.at("5/new").task_key(), "5/new");
  EXPECT_EQ(out.size(), 1u);
}

TEST(ResolveMergedThemes, AKeysOwnRecordWinsOverAMovedOne) {
  // Both key orders: the merged theme's key sorting before ("13/...") and after ("7/...")
  // the surviving key ("5/...").
  for (ThemeId from : {13, 7}) {
    SCOPED_TRACE(from);
    const std::string moved_key = std::to_string(from) + "/cnt-1";
    state::TaskRecord own = Record("5/cnt-1", "2026-03-01");
    own.set_owner("Own");
    state::TaskRecord moved = Record(moved_key, "2026-02-01");
    moved.set_owner("Moved");
    const TaskRecords out = ResolveMergedThemes({{"5/cnt-1", own}, {moved_key, moved}},
                                                [from](ThemeId t) { return MergeInto5(from, t); });
    ASSERT_EQ(out.size(), 1u);
    ASSERT_EQ(out.count("5/cnt-1"), 1u);
    EXPECT_EQ(out.at("5/cnt-1").owner(), "Own");
    EXPECT_EQ(out.at("5/cnt-1").planned_due(), "2026-03-01");
  }
}

TEST(ResolveMergedThemes, AmongRecordsMovedOntoOneKeyTheFirstInKeyOrderWins) {
  state::TaskRecord a = Record("12/cnt-1", "2026-03-01");
  a.set_owner("From12");
  state::TaskRecord b = Record("13/cnt-1", "2026-02-01");
  b.set_owner("From13");
  const TaskRecords out = ResolveMergedThemes({{"13/cnt-1", b}, {"12/cnt-1", a}}, [](ThemeId t) {
    return t == 12 || t == 13 ? ThemeId{5} : t;
  });
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out.at("5/cnt-1").owner(), "From12");
}

TEST(ResolveMergedThemes, LeavesRecordsOfNonMergedThemesAlone) {
  state::TaskRecord merged = Record("13/cnt-1", "2026-03-01");
  state::TaskRecord kept = Record("8/cnt-2", "2026-04-01");
  kept.set_status("done");
  state::TaskRecord survivor = Record("5/new", "2026-05-01");
  const TaskRecords out =
      ResolveMergedThemes({{"13/cnt-1", merged}, {"8/cnt-2", kept}, {"5/new", survivor}},
                          [](ThemeId t) { return MergeInto5(13, t); });
  ASSERT_EQ(out.size(), 3u);
  ASSERT_EQ(out.count("8/cnt-2"), 1u);
  EXPECT_EQ(out.at("8/cnt-2").SerializeAsString(), kept.SerializeAsString());
  ASSERT_EQ(out.count("5/new"), 1u);
  EXPECT_EQ(out.at("5/new").SerializeAsString(), survivor.SerializeAsString());
  EXPECT_EQ(out.count("5/cnt-1"), 1u);
}

// ---------------------------------------------------------------------------------------
// ApplyTaskRecords

TEST(ApplyTaskRecords, EditsOverrideTheGeneratedStatusOwnerAndDue) {
  state::TaskRecord record = Record("3/asset-1", "2026-03-01");
  record.set_status("in_progress");
  record.set_owner("Lee");
  record.set_due("2026-05-15");
  std::vector<RefreshTask> tasks = {Task("3/asset-1", "2026-03-10", "Dana")};

  const std::vector<state::TaskRecord> out = ApplyTaskRecords({{"3/asset-1", record}}, &tasks);

  ASSERT_EQ(tasks.size(), 1u);
  EXPECT_EQ(tasks[0].status, "in_progress");
  EXPECT_EQ(tasks[0].owner, "Lee");
  EXPECT_EQ(tasks[0].due, "2026-05-15");
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].task_key(), "3/asset-1");
  EXPECT_EQ(out[0].status(), "in_progress");
  EXPECT_EQ(out[0].owner(), "Lee");
  EXPECT_EQ(out[0].due(), "2026-05-15");
  EXPECT_EQ(out[0].planned_due(), "2026-03-01");
}

TEST(ApplyTaskRecords, AnUneditedDueNeverSlidesLaterAsAsOfMovesOn) {
  // Materialized first with a default due of 2026-03-01; a week later the same P1 task is
  // generated with 2026-03-08.
  std::vector<RefreshTask> first = {Task("3/asset-1", "2026-03-01")};
  const std::vector<state::TaskRecord> stored = ApplyTaskRecords({}, &first);
  ASSERT_EQ(stored.size(), 1u);

  std::vector<RefreshTask> later = {Task("3/asset-1", "2026-03-08")};
  const std::vector<state::TaskRecord> out = ApplyTaskRecords({{"3/asset-1", stored[0]}}, &later);
  EXPECT_EQ(later[0].due, "2026-03-01");
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].planned_due(), "2026-03-01");
  EXPECT_EQ(out[0].shown_due(), "2026-03-01");
  EXPECT_FALSE(out[0].has_due());
}

TEST(ApplyTaskRecords, AnUneditedDueMovesEarlierWhenTheGeneratedDueIsEarlier) {
  // Planned as P3 (60 days), now P1 (14 days).
  std::vector<RefreshTask> tasks = {Task("3/new", "2026-03-15", "unassigned")};
  const std::vector<state::TaskRecord> out =
      ApplyTaskRecords({{"3/new", Record("3/new", "2026-04-30")}}, &tasks);
  EXPECT_EQ(tasks[0].due, "2026-03-15");
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].planned_due(), "2026-03-15");
  EXPECT_EQ(out[0].shown_due(), "2026-03-15");
}

TEST(ApplyTaskRecords, ADueEditStillLowersThePlannedDueUnderneath) {
  state::TaskRecord record = Record("3/new", "2026-04-30");
  record.set_due("2026-06-01");
  std::vector<RefreshTask> tasks = {Task("3/new", "2026-03-15")};
  const std::vector<state::TaskRecord> out = ApplyTaskRecords({{"3/new", record}}, &tasks);
  EXPECT_EQ(tasks[0].due, "2026-06-01");
  EXPECT_EQ(out[0].planned_due(), "2026-03-15");
  EXPECT_EQ(out[0].due(), "2026-06-01");
}

TEST(ApplyTaskRecords, ShownFieldsAreWhatTheTaskNowShows) {
  state::TaskRecord record = Record("3/asset-1", "2026-03-01");
  record.set_status("done");
  record.set_shown_status("open");
  record.set_shown_owner("Old");
  record.set_shown_due("2026-01-01");
  std::vector<RefreshTask> tasks = {Task("3/asset-1", "2026-03-20", "Dana")};
  const std::vector<state::TaskRecord> out = ApplyTaskRecords({{"3/asset-1", record}}, &tasks);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].shown_status(), "done");
  EXPECT_EQ(out[0].shown_owner(), "Dana");
  EXPECT_EQ(out[0].shown_due(), "2026-03-01");
  EXPECT_EQ(out[0].shown_status(), tasks[0].status);
  EXPECT_EQ(out[0].shown_owner(), tasks[0].owner);
  EXPECT_EQ(out[0].shown_due(), tasks[0].due);
}

TEST(ApplyTaskRecords, ATaskWithoutARecordKeepsItsValuesAndIsPlannedWithItsDue) {
  std::vector<RefreshTask> tasks = {Task("3/asset-1", "2026-03-01", "Dana"),
                                    Task("4/new", "2026-04-01", "unassigned")};
  const std::vector<state::TaskRecord> out =
      ApplyTaskRecords({{"9/other", Record("9/other", "2026-01-01")}}, &tasks);
  ASSERT_EQ(tasks.size(), 2u);
  EXPECT_EQ(tasks[0].task_key, "3/asset-1");
  EXPECT_EQ(tasks[0].due, "2026-03-01");
  EXPECT_EQ(tasks[0].owner, "Dana");
  EXPECT_EQ(tasks[0].status, "open");
  EXPECT_EQ(tasks[1].task_key, "4/new");
  ASSERT_EQ(out.size(), 2u);
  for (size_t i = 0; i < out.size(); ++i) {
    SCOPED_TRACE(tasks[i].task_key);
    EXPECT_EQ(out[i].task_key(), tasks[i].task_key);
    EXPECT_EQ(out[i].planned_due(), tasks[i].due);
    EXPECT_FALSE(out[i].has_status());
    EXPECT_FALSE(out[i].has_owner());
    EXPECT_FALSE(out[i].has_due());
    EXPECT_EQ(out[i].shown_status(), "open");
    EXPECT_EQ(out[i].shown_owner(), tasks[i].owner);
    EXPECT_EQ(out[i].shown_due(), tasks[i].due);
  }
}

TEST(ApplyTaskRecords, ReimportingTheWrittenPlanChangesNothing) {
  state::TaskRecord record = Record("3/asset-1", "2026-03-01");
  record.set_owner("Lee");
  std::vector<RefreshTask> tasks = {Task("3/asset-1", "2026-03-08", "Dana")};
  std::vector<state::TaskRecord> out = ApplyTaskRecords({{"3/asset-1", record}}, &tasks);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_FALSE(ApplyTaskEdit(Edit("3/asset-1", tasks[0].status, tasks[0].owner, tasks[0].due),
                             /*only_changes=*/true, &out[0]));
  EXPECT_FALSE(out[0].has_status());
  EXPECT_FALSE(out[0].has_due());
}

}  // namespace
}  // namespace fieldloop::pipeline

namespace fieldloop::pipeline {
namespace {

TEST(ValidateTaskEdit, RejectsAnOwnerThatIsNotUtf8) {
  TaskEdit edit;
  edit.task_key = "5/new";
  edit.owner = std::string("\xff\xfe");
  EXPECT_EQ(ValidateTaskEdit(edit).code(), absl::StatusCode::kInvalidArgument);
  edit.owner = "Zo\xc3\xab";  // "Zoë".
  EXPECT_TRUE(ValidateTaskEdit(edit).ok());
}

}  // namespace
}  // namespace fieldloop::pipeline
