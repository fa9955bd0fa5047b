#include "services/backups.h"

#include <filesystem>
#include <system_error>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "pipeline/record_validator.h"
#include "storage/path_rules.h"

namespace fieldloop::services {
absl::Status CheckBackupName(absl::string_view name) {
  // A backup name follows the initiative rule: one safe path component.
  if (pipeline::IsValidInitiative(name)) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(
      "name: '", absl::CHexEscape(name.substr(0, 80)),
      "' must match [a-z0-9][a-z0-9._-]{0,63}: one new directory under --backup_root"));
}

absl::StatusOr<std::unique_ptr<Backups>> Backups::AtRoot(const std::string& root,
                                                         const storage::Store* store) {
  if (root.empty()) return std::unique_ptr<Backups>(new Backups("", store));
  const std::filesystem::path given(root);
  if (!given.is_absolute()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--backup_root=", root, ": must be an absolute path"));
  }
  const std::filesystem::path resolved = storage::ResolvedPath(given.string());
  if (storage::IsSameOrInside(resolved, store->dir())) {
    return absl::InvalidArgumentError(absl::StrCat("--backup_root=", root,
                                                   ": is inside --data_dir (", store->dir(),
                                                   "); keep backups outside the store"));
  }
  std::error_code ec;
  std::filesystem::create_directories(resolved, ec);
  if (ec || !std::filesystem::is_directory(resolved, ec)) {
    return absl::UnavailableError(absl::StrCat("--backup_root=", root, ": cannot create it (",
                                               ec ? ec.message() : "not a directory", ")"));
  }
  return std::unique_ptr<Backups>(new Backups(resolved.string(), store));
}

absl::StatusOr<storage::CheckpointInfo> Backups::Create(absl::string_view name) {
  if (!enabled()) {
    return absl::FailedPreconditionError(
        "backups are off: start fieldloopd with --backup_root=DIR (an absolute directory "
        "outside --data_dir) to allow Admin.Backup to write backups into DIR/<name>");
  }
  if (absl::Status s = CheckBackupName(name); !s.ok()) return s;
  const std::string dir = absl::StrCat(root_, "/", name);
  absl::MutexLock lock(&mu_);
  std::error_code ec;
  if (std::filesystem::exists(std::filesystem::symlink_status(dir, ec))) {
    return absl::AlreadyExistsError(
        absl::StrCat("backup '", name, "' already exists in ", root_, ": pick a new name"));
  }
  return store_->Checkpoint(dir);
}

}  // namespace fieldloop::services
