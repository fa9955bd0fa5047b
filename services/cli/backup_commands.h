// `fieldloop backup` and `fieldloop restore`: backups of a store, through a running server
// (Admin.Backup) or of a stopped one directly, and a new data directory made from a backup.
// Rules: docs/operations.md ("Backup and restore").
#ifndef FIELDLOOP_SERVICES_CLI_BACKUP_COMMANDS_H_
#define FIELDLOOP_SERVICES_CLI_BACKUP_COMMANDS_H_

#include <cstdio>
#include <string>

#include "services/cli/connect.h"

namespace fieldloop::cli {

// Either `server` and `name` (online) or `data_dir` and `to` (offline), not both.
struct BackupOptions {
  std::string server;    // host:port of a fieldloopd started with --backup_root.
  std::string name;      // The backup's directory name under the server's --backup_root.
  std::string data_dir;  // The data directory of a stopped fieldloopd.
  std::string to;        // The new directory to write its backup into.
  int connect_timeout_s = kDefaultConnectTimeoutS;
  TransportOptions transport;  // TLS and access token (--tls_ca, ..., --token_file).
};

// Online: asks the server for a backup (Admin.Backup). Offline: opens the store in
// `data_dir` (refused while a running fieldloopd holds it), writes a checkpoint into `to`
// and closes it. Prints the backup's path, size and records per initiative. Exit status:
// 0 done; 2 the backup was refused or failed (backups off, bad name, the directory exists,
// an I/O error; named on `err`); 1 usage or connection error, or the store cannot be opened.
int RunBackup(const BackupOptions& options, std::FILE* out, std::FILE* err);

struct RestoreOptions {
  std::string from;      // A backup directory (or the data directory of a stopped server).
  std::string data_dir;  // The new data directory; must not exist.
};

// Copies the backup `from` into the new directory `data_dir` (full copies, no hard links),
// opens the copy as a store to check it, and prints what it holds and how to start a
// server on it. The copy is made in "<data_dir>.restoring" and renamed when it opens, so
// `data_dir` never holds a half copy. Exit status: 0 done; 1 usage error, `data_dir` (or
// its staging directory) exists, `from` is not a store, the copy or the check failed.
int RunRestore(const RestoreOptions& options, std::FILE* out, std::FILE* err);

}  // namespace fieldloop::cli

#endif  // FIELDLOOP_SERVICES_CLI_BACKUP_COMMANDS_H_
