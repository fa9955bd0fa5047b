#include "services/output_files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "pipeline/record_validator.h"

namespace fieldloop::services {
namespace {

absl::Status Errno(absl::string_view what, const std::string& path) {
  const int e = errno;
  std::string msg = absl::StrCat(what, " ", path, ": ", std::strerror(e));
  if (e == EACCES || e == EPERM || e == EROFS) return absl::PermissionDeniedError(msg);
  if (e == ENOSPC || e == EDQUOT) return absl::ResourceExhaustedError(msg);
  return absl::InternalError(msg);
}

}  // namespace

absl::StatusOr<OutputPaths> PathsFor(absl::string_view output_root, absl::string_view initiative) {
  if (absl::Status s = pipeline::CheckInitiative(initiative); !s.ok()) return s;
  if (output_root.empty()) return absl::InvalidArgumentError("output root is empty");
  OutputPaths p;
  p.dir = absl::StrCat(output_root, "/specs/projects/", initiative, "/sales");
  p.board = p.dir + "/enablement_feedback.md";
  p.plan = p.dir + "/content_refresh.csv";
  return p;
}

absl::Status WriteFileAtomically(const std::string& path, absl::string_view contents) {
  const std::filesystem::path target(path);
  std::error_code ec;
  std::filesystem::create_directories(target.parent_path(), ec);
  if (ec)
    return absl::InternalError(
        absl::StrCat("creating ", target.parent_path().string(), ": ", ec.message()));
  std::string tmp = absl::StrCat(path, ".tmp-XXXXXX");
  const int fd = mkstemp(tmp.data());
  if (fd < 0) return Errno("creating a temporary file for", path);
  size_t written = 0;
  while (written < contents.size()) {
    const ssize_t n = write(fd, contents.data() + written, contents.size() - written);
    if (n < 0) {
      if (errno == EINTR) continue;
      absl::Status s = Errno("writing", tmp);
      close(fd);
      unlink(tmp.c_str());
      return s;
    }
    written += static_cast<size_t>(n);
  }
  if (fchmod(fd, 0644) != 0 || fsync(fd) != 0) {
    absl::Status s = Errno("syncing", tmp);
    close(fd);
    unlink(tmp.c_str());
    return s;
  }
  close(fd);
  if (rename(tmp.c_str(), path.c_str()) != 0) {
    absl::Status s = Errno("renaming onto", path);
    unlink(tmp.c_str());
    return s;
  }
  // Make the rename durable too.
  const int dir = open(target.parent_path().c_str(), O_RDONLY | O_DIRECTORY);
  if (dir >= 0) {
    fsync(dir);
    close(dir);
  }
  return absl::OkStatus();
}

}  // namespace fieldloop::services
