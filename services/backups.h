// Backups: online backups of the store (RocksDB checkpoints, Store::Checkpoint) into new
// directories directly under one backup root, fixed when fieldloopd starts (--backup_root).
// A request only names the new directory, so a caller's string never becomes an arbitrary
// path on the server host. Rules: docs/operations.md ("Backup and restore").
#ifndef FIELDLOOP_SERVICES_BACKUPS_H_
#define FIELDLOOP_SERVICES_BACKUPS_H_

#include <memory>
#include <string>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "storage/store.h"

namespace fieldloop::services {

// OK when `name` can name a backup: [a-z0-9][a-z0-9._-]{0,63}, the rule of initiative names,
// so a single directory name that is never ".", ".." or hidden and holds no separator.
// InvalidArgument "name: ..." otherwise.
absl::Status CheckBackupName(absl::string_view name);

class Backups {
 public:
  // Backups of `store` (not owned; must outlive this) under `root`. Empty `root`: backups
  // are off and Create returns FailedPrecondition. Otherwise `root` must be an absolute path
  // that is neither the store's directory nor inside it; it is created (with its parents)
  // when missing. Returns InvalidArgument "--backup_root=...: <rule>" for a bad root and
  // Unavailable when it cannot be created.
  static absl::StatusOr<std::unique_ptr<Backups>> AtRoot(const std::string& root,
                                                         const storage::Store* store);

  // True when a backup root is set.
  bool enabled() const { return !root_.empty(); }
  // The backup root, absolute with symbolic links resolved; empty when off.
  const std::string& root() const { return root_; }

  // Writes a checkpoint of the store into the new directory <root>/<name> and describes it.
  // Returns FailedPrecondition when backups are off (the message names --backup_root),
  // InvalidArgument for a bad name (CheckBackupName), AlreadyExists when the root has an entry
  // of that name (or "<name>.tmp", RocksDB's staging directory), and the store's error
  // otherwise; nothing is written outside <root>. One backup at a time: concurrent calls
  // wait for each other. Thread-safe.
  absl::StatusOr<storage::CheckpointInfo> Create(absl::string_view name) ABSL_LOCKS_EXCLUDED(mu_);

 private:
  Backups(std::string root, const storage::Store* store) : root_(std::move(root)), store_(store) {}

  const std::string root_;
  const storage::Store* const store_;
  // Held while a checkpoint is written: each one flushes the memtables, and two with the same
  // name must not race between the existence check and RocksDB's rename.
  absl::Mutex mu_;
};

}  // namespace fieldloop::services

#endif  // FIELDLOOP_SERVICES_BACKUPS_H_
