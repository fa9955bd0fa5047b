// Materializer: assembles the analyzer's inputs for one initiative from the store and the
// theme state, renders the board and the refresh plan, and writes them atomically under the
// output root. Used by the one-shot `fieldloop run` (and later by the Board service).
#ifndef FIELDLOOP_SERVICES_MATERIALIZER_H_
#define FIELDLOOP_SERVICES_MATERIALIZER_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "pipeline/refresh_plan.h"
#include "pipeline/theme_book.h"
#include "services/output_files.h"
#include "storage/store.h"

namespace fieldloop::services {

struct MaterializeResult {
  OutputPaths paths;
  bool stub = false;  // No feedback: stub board, no CSV written.
  bool plan_written = false;
  std::vector<pipeline::RefreshTask> tasks;  // Priority order.
};

// Renders and writes the outputs of `initiative` as of `as_of` from the records in `store`
// and the theme `summaries` (all live themes of the initiative). Returns InvalidArgument for
// a bad initiative name (nothing written) and the write error otherwise.
absl::StatusOr<MaterializeResult> Materialize(const storage::Store& store,
                                              const std::string& initiative,
                                              const std::vector<pipeline::ThemeSummary>& summaries,
                                              absl::CivilDay as_of, const std::string& output_root);

}  // namespace fieldloop::services

#endif  // FIELDLOOP_SERVICES_MATERIALIZER_H_
