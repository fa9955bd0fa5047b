// Task edits: how people's changes to refresh-plan tasks (status, owner, due date) and the
// due dates tasks were first planned with survive the next materialization. Pure.
//
// Rules (docs/analysis.md, "People's edits"):
// - A generated task takes the status, owner and due date of its record's edits when set.
// - Otherwise its due date is the earlier of the default for its priority as of this
//   materialization and the record's planned_due: a due date never slides later on its own
//   as as_of moves on, and moves earlier when the priority rises.
// - Records are keyed by task key ("<theme_id>/<asset_id>" or "<theme_id>/new"). When the
//   theme of a key was merged into another one, its record moves to the surviving theme's
//   key, unless that key has a record of its own.
// - An imported CSV row edits a field only where its cell differs from what the last
//   written plan showed (shown_*), so importing an unchanged file changes nothing.
#ifndef FIELDLOOP_PIPELINE_TASK_EDITS_H_
#define FIELDLOOP_PIPELINE_TASK_EDITS_H_

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "pipeline/refresh_plan.h"
#include "pipeline/task_state.pb.h"

namespace fieldloop::pipeline {

// True for the four task statuses: open, in_progress, done, wont_do.
bool IsTaskStatus(absl::string_view status);

// A change to one task. Unset fields stay as they are.
struct TaskEdit {
  std::string task_key;
  std::optional<std::string> status;  // open, in_progress, done, wont_do.
  std::optional<std::string> owner;   // 1..200 bytes of UTF-8, no control characters.
  std::optional<std::string> due;     // YYYY-MM-DD.
};

// InvalidArgument naming the field ("task_key", "status", "owner", "due") when `edit` is
// not acceptable; OK otherwise.
absl::Status ValidateTaskEdit(const TaskEdit& edit);

// Records `edit` (validated) in `record`. With `only_changes`, a field equal to what the
// last plan showed is left alone (the import rule). Returns whether anything changed.
bool ApplyTaskEdit(const TaskEdit& edit, bool only_changes, state::TaskRecord* record);

using TaskRecords = std::map<std::string, state::TaskRecord>;  // By task key.

// Moves records whose theme was merged to the surviving theme's key (see above).
// `resolve` maps a theme id to the id it lives on as.
TaskRecords ResolveMergedThemes(const TaskRecords& records,
                                const std::function<ThemeId(ThemeId)>& resolve);

// Applies `records` to freshly generated `tasks` (in place, order unchanged) and returns
// the records to store for them: planned_due and shown_* updated, edits kept.
std::vector<state::TaskRecord> ApplyTaskRecords(const TaskRecords& records,
                                                std::vector<RefreshTask>* tasks);

}  // namespace fieldloop::pipeline

#endif  // FIELDLOOP_PIPELINE_TASK_EDITS_H_
