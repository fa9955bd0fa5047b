#include "pipeline/task_edits.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "pipeline/record_validator.h"

namespace fieldloop::pipeline {
namespace {

constexpr size_t kMaxOwnerBytes = 200;

// The theme id of a task key, -1 when the key has no "<digits>/" prefix.
ThemeId ThemeOfKey(absl::string_view key) {
  const size_t slash = key.find('/');
  ThemeId theme = -1;
  if (slash == absl::string_view::npos || !absl::SimpleAtoi(key.substr(0, slash), &theme)) {
    return -1;
  }
  return theme;
}

// True when `value` is to be recorded as the edit of a field that is `current` (unset when
// !has_current) and that the last plan showed as `shown`.
bool Takes(const std::optional<std::string>& value, const std::string& shown, bool only_changes,
           bool has_current, const std::string& current) {
  return value && !(only_changes && *value == shown) && !(has_current && current == *value);
}

}  // namespace

bool IsTaskStatus(absl::string_view status) {
  return status == "open" || status == "in_progress" || status == "done" || status == "wont_do";
}

absl::Status ValidateTaskEdit(const TaskEdit& edit) {
  if (edit.task_key.empty() || ThemeOfKey(edit.task_key) < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("task_key: '", edit.task_key, "' is not <theme_id>/<asset_id or new>"));
  }
  if (edit.status && !IsTaskStatus(*edit.status)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "status: '", *edit.status, "' is not one of open, in_progress, done, wont_do"));
  }
  if (edit.owner) {
    if (edit.owner->empty() || edit.owner->size() > kMaxOwnerBytes) {
      return absl::InvalidArgumentError("owner: must be 1 to 200 bytes");
    }
    if (!IsValidUtf8(*edit.owner)) return absl::InvalidArgumentError("owner: must be UTF-8");
    for (unsigned char c : *edit.owner) {
      if (c < 0x20 || c == 0x7f) {
        return absl::InvalidArgumentError("owner: must not contain control characters");
      }
    }
  }
  if (edit.due && !IsValidDate(*edit.due)) {
    return absl::InvalidArgumentError(
        absl::StrCat("due: '", *edit.due, "' is not a date written YYYY-MM-DD"));
  }
  return absl::OkStatus();
}

bool ApplyTaskEdit(const TaskEdit& edit, bool only_changes, state::TaskRecord* record) {
  record->set_task_key(edit.task_key);
  bool changed = false;
  if (Takes(edit.status, record->shown_status(), only_changes, record->has_status(),
            record->status())) {
    record->set_status(*edit.status);
    changed = true;
  }
  if (Takes(edit.owner, record->shown_owner(), only_changes, record->has_owner(),
            record->owner())) {
    record->set_owner(*edit.owner);
    changed = true;
  }
  if (Takes(edit.due, record->shown_due(), only_changes, record->has_due(), record->due())) {
    record->set_due(*edit.due);
    changed = true;
  }
  return changed;
}

TaskRecords ResolveMergedThemes(const TaskRecords& records,
                                const std::function<ThemeId(ThemeId)>& resolve) {
  TaskRecords out;
  std::vector<std::pair<std::string, state::TaskRecord>> moved;
  for (const auto& [key, record] : records) {
    const ThemeId theme = ThemeOfKey(key);
    const ThemeId into = theme < 0 ? theme : resolve(theme);
    if (into == theme) {
      out[key] = record;
      continue;
    }
    const std::string new_key = absl::StrCat(into, key.substr(key.find('/')));
    state::TaskRecord r = record;
    r.set_task_key(new_key);
    moved.emplace_back(new_key, std::move(r));
  }
  // A key's own record wins over one moved onto it; among moved ones, the first in key order.
  for (auto& [key, record] : moved) out.emplace(key, std::move(record));
  return out;
}

std::vector<state::TaskRecord> ApplyTaskRecords(const TaskRecords& records,
                                                std::vector<RefreshTask>* tasks) {
  std::vector<state::TaskRecord> out;
  out.reserve(tasks->size());
  for (RefreshTask& task : *tasks) {
    state::TaskRecord record;
    if (auto it = records.find(task.task_key); it != records.end()) record = it->second;
    record.set_task_key(task.task_key);
    // YYYY-MM-DD strings compare like the dates they write.
    if (record.planned_due().empty() || task.due < record.planned_due()) {
      record.set_planned_due(task.due);
    }
    task.due = record.has_due() ? record.due() : record.planned_due();
    if (record.has_status()) task.status = record.status();
    if (record.has_owner()) task.owner = record.owner();
    record.set_shown_status(task.status);
    record.set_shown_owner(task.owner);
    record.set_shown_due(task.due);
    out.push_back(std::move(record));
  }
  return out;
}

}  // namespace fieldloop::pipeline
