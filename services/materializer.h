// Materializer: assembles the analyzer's inputs for one initiative from the store and the
// theme state, renders the board and the refresh plan, applies people's task edits
// (pipeline/task_edits.h) and writes the files atomically under the output root. Used by
// the one-shot `fieldloop run`, the Board service and the server's schedule.
#ifndef FIELDLOOP_SERVICES_MATERIALIZER_H_
#define FIELDLOOP_SERVICES_MATERIALIZER_H_

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "pipeline/board_renderer.h"
#include "pipeline/refresh_plan.h"
#include "pipeline/task_edits.h"
#include "pipeline/task_state.pb.h"
#include "pipeline/theme_book.h"
#include "pipeline/theme_state.pb.h"
#include "services/output_files.h"
#include "storage/store.h"

namespace fieldloop::services {

// What materializing an initiative needs from the theme state.
struct ThemeView {
  std::vector<pipeline::ThemeSummary> summaries;  // All live themes of the initiative.
  // The id a theme lives on as after merges; nullptr = ids never change.
  std::function<pipeline::ThemeId(pipeline::ThemeId)> resolve;
  // The counts of the initiative's records the theme state keeps (ThemeApplier::Inputs);
  // nullopt when unknown: AnalyzeInitiative then reads the whole events log to count them.
  std::optional<state::InputCounts> inputs;
};

// The rendered outputs, before anything is written.
struct RenderedOutputs {
  OutputPaths paths;
  bool stub = false;                            // No feedback: stub board, no CSV.
  std::string board;                            // Markdown.
  std::string plan_csv;                         // Empty for a stub.
  int themes = 0;                               // Themes on the board (global + regional).
  std::vector<pipeline::RefreshTask> tasks;     // Board order (InBoardOrder), edits applied.
  std::vector<state::TaskRecord> task_records;  // To store when written.
};

// The analyzer's results for `initiative` as of `as_of`, everything the board shows:
// counts of inputs, prioritized themes, tasks with people's edits applied (plan order),
// linked assets, proof points, ramp risks. Reads only the store: with `themes.inputs` the
// latest content assets and onboarding metrics (Store::ScanLatestState), the win/loss notes
// (Store::ScanKind) and the task records; without, every stored event of the initiative
// too, to count them (pipeline::CountInput). Both give the same result when
// `themes.inputs` counts the records stored. `task_records`, when not null, receives the
// task records to store once outputs are written. With `redact_pii`,
// e-mail addresses and phone numbers in quotes and proof points are masked
// (pipeline/pii_redactor.h). Does not validate the initiative as a path (it becomes none
// here).
absl::StatusOr<pipeline::BoardInputs> AnalyzeInitiative(
    const storage::Store& store, const std::string& initiative, const ThemeView& themes,
    absl::CivilDay as_of, std::vector<state::TaskRecord>* task_records = nullptr,
    bool redact_pii = true);

// Renders the outputs of `initiative` as of `as_of`. Pure with respect to the files: reads
// only the store (records and task records) and whether an older plan exists. Returns
// InvalidArgument for a bad initiative name. `redact_pii` as for AnalyzeInitiative.
absl::StatusOr<RenderedOutputs> RenderOutputs(const storage::Store& store,
                                              const std::string& initiative,
                                              const ThemeView& themes, absl::CivilDay as_of,
                                              const std::string& output_root,
                                              bool redact_pii = true);

struct MaterializeResult {
  OutputPaths paths;
  bool stub = false;  // No feedback: stub board, no CSV written; else both written.
  int themes = 0;
  std::vector<pipeline::RefreshTask> tasks;  // Board order (InBoardOrder).
  // With keep_history: the dated copies, "" otherwise.
  std::string history_board, history_plan;
};

// Renders and writes the outputs (board, then CSV unless a stub), stores the task records,
// and with `keep_history` also writes copies under <sales dir>/history/<ISO week of as_of>/.
// Returns InvalidArgument for a bad initiative name (nothing written) and the write error
// otherwise.
absl::StatusOr<MaterializeResult> Materialize(storage::Store& store, const std::string& initiative,
                                              const ThemeView& themes, absl::CivilDay as_of,
                                              const std::string& output_root,
                                              bool keep_history = false, bool redact_pii = true);

// The task records of `initiative`, by key (unreadable ones skipped).
absl::StatusOr<pipeline::TaskRecords> ReadTaskRecords(const storage::Store& store,
                                                      const std::string& initiative);

// "2026-W48": the ISO 8601 week of `day` (weeks start on Monday; week 1 holds the year's
// first Thursday).
std::string IsoWeek(absl::CivilDay day);

}  // namespace fieldloop::services

#endif  // FIELDLOOP_SERVICES_MATERIALIZER_H_
