// Fuzz target: edited refresh plan import (pipeline/plan_import.h).
// Invariants: no crash; edits and errors have line numbers within the input, in file order;
// an edit has a non-empty trimmed task_key not shared with another edit, a known status and
// a real due date; no line has both an edit and an error; an error names a known field.
#include <set>
#include <string>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/string_view.h"
#include "pipeline/plan_import.h"
#include "pipeline/record_validator.h"
#include "tests/fuzz/fuzz_targets.h"
#include "tests/fuzz/fuzz_util.h"

namespace fieldloop::fuzz {

int FuzzPlanImport(const uint8_t* data, size_t size) {
  const absl::string_view csv(reinterpret_cast<const char*>(data), size);
  const absl::StatusOr<pipeline::ParsedPlan> plan = pipeline::ParsePlanCsv(csv);
  if (!plan.ok()) {
    FUZZ_CHECK(plan.status().code() == absl::StatusCode::kInvalidArgument);
    return 0;
  }
  const int lines = LineCount(csv);
  absl::flat_hash_set<std::string> keys;
  std::set<int> edit_lines;
  int last = 0;
  for (const pipeline::PlanEdit& e : plan->edits) {
    FUZZ_CHECK(e.line >= 1 && e.line <= lines);
    FUZZ_CHECK(e.line > last);
    last = e.line;
    edit_lines.insert(e.line);
    FUZZ_CHECK(!e.task_key.empty() && IsTrimmed(e.task_key));
    FUZZ_CHECK(keys.insert(e.task_key).second);
    if (e.status) {
      FUZZ_CHECK(*e.status == "open" || *e.status == "in_progress" || *e.status == "done" ||
                 *e.status == "wont_do");
    }
    if (e.owner) FUZZ_CHECK(!e.owner->empty());
    if (e.due) FUZZ_CHECK(pipeline::IsValidDate(*e.due));
  }
  last = 0;
  for (const pipeline::PlanImportError& err : plan->errors) {
    FUZZ_CHECK(err.line >= 1 && err.line <= lines);
    FUZZ_CHECK(err.line >= last);
    last = err.line;
    FUZZ_CHECK(edit_lines.count(err.line) == 0);
    FUZZ_CHECK(err.field == "task_key" || err.field == "status" || err.field == "due" ||
               err.field == "line");
    FUZZ_CHECK(!err.message.empty());
  }
  return 0;
}

}  // namespace fieldloop::fuzz

FIELDLOOP_FUZZ_ENTRY(fieldloop::fuzz::FuzzPlanImport)
