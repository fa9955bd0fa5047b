// OutputFiles: where the board and the refresh plan of an initiative live, and writing them
// atomically (temp file in the same directory, fsync, rename), so a reader never sees a
// half-written file and a crash leaves either the old or the new file.
#ifndef FIELDLOOP_SERVICES_OUTPUT_FILES_H_
#define FIELDLOOP_SERVICES_OUTPUT_FILES_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace fieldloop::services {

struct OutputPaths {
  std::string dir;    // <output_root>/specs/projects/<initiative>/sales
  std::string board;  // <dir>/enablement_feedback.md
  std::string plan;   // <dir>/content_refresh.csv
};

// The output paths of `initiative` under `output_root`. The initiative is untrusted: it
// must match [a-z0-9][a-z0-9._-]{0,63} (so no "/", no "..", no empty name), else
// InvalidArgument; the result is always inside output_root.
absl::StatusOr<OutputPaths> PathsFor(absl::string_view output_root, absl::string_view initiative);

// Writes `contents` to `path` atomically, creating parent directories. Returns the errno
// error (as Internal/PermissionDenied/...) naming the path on failure; the old file, if
// any, is then unchanged.
absl::Status WriteFileAtomically(const std::string& path, absl::string_view contents);

}  // namespace fieldloop::services

#endif  // FIELDLOOP_SERVICES_OUTPUT_FILES_H_
