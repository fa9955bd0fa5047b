// `fieldloop snapshot` and `fieldloop import-plan`: the Board service from the command line.
#ifndef FIELDLOOP_SERVICES_CLI_BOARD_COMMANDS_H_
#define FIELDLOOP_SERVICES_CLI_BOARD_COMMANDS_H_

#include <cstdio>
#include <string>

#include "services/cli/connect.h"

namespace fieldloop::cli {

struct SnapshotOptions {
  std::string server;      // host:port of fieldloopd. Required.
  std::string initiative;  // Empty: every initiative the server has.
  std::string as_of;       // YYYY-MM-DD; empty: the server's today (UTC).
  int connect_timeout_s = kDefaultConnectTimeoutS;
  TransportOptions transport;  // TLS and access token (--tls_ca, ..., --token_file).
};

// The weekly snapshot job: asks the server to materialize (Board.Materialize with
// keep_history) and prints the files written. Exit status: 0 all done, 1 usage or
// connection error, 2 some initiative failed (named on `err`).
int RunSnapshot(const SnapshotOptions& options, std::FILE* out, std::FILE* err);

struct ImportPlanOptions {
  std::string file;        // The edited content_refresh.csv. Required.
  std::string initiative;  // Empty: taken from a .../specs/projects/<initiative>/sales/ path.
  std::string server;      // Import through a running server (Board.ImportPlan), or
  std::string data_dir;    // into the one-shot store `fieldloop run` uses (default
  std::string out;         // <out>/.fieldloop/data, out default ".", as for run).
  int connect_timeout_s = kDefaultConnectTimeoutS;
  TransportOptions transport;  // TLS and access token (--tls_ca, ..., --token_file).
};

// Imports people's edits (status, owner, due) from an edited plan. Exit status: 0 all rows
// imported, 2 some rows skipped (each named as "line N: field: reason"), 1 usage, file,
// connection or whole-file error.
int RunImportPlan(const ImportPlanOptions& options, std::FILE* out, std::FILE* err);

}  // namespace fieldloop::cli

#endif  // FIELDLOOP_SERVICES_CLI_BOARD_COMMANDS_H_
