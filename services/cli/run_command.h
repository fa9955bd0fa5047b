// `fieldloop run`: the one-shot job, no server. Loads the seed's four inputs into an embedded
// RocksDB, applies them to themes and writes the board and the refresh plan.
#ifndef FIELDLOOP_SERVICES_CLI_RUN_COMMAND_H_
#define FIELDLOOP_SERVICES_CLI_RUN_COMMAND_H_

#include <cstdio>
#include <string>

namespace fieldloop::cli {

struct RunOptions {
  std::string initiative;
  std::string feedback_stream;     // JSON Lines of feedback events / transcripts. Optional:
                                   // without it the board is a stub.
  std::string win_loss_notes;      // JSON Lines. Optional (named as missing on the board).
  std::string content_inventory;   // CSV or JSON Lines. Optional.
  std::string onboarding_metrics;  // CSV or JSON Lines. Optional.
  std::string out = ".";           // Output root: <out>/specs/projects/<initiative>/sales/.
  std::string as_of;               // YYYY-MM-DD; empty: today (UTC).
  std::string data_dir;            // Embedded store; empty: <out>/.fieldloop/data.
};

// Exit status: 0 done, 2 done but some records were rejected, 1 usage or I/O error.
// The embedded store of the one-shot job: `data_dir`, else <out>/.fieldloop/data.
std::string OneShotDataDir(const std::string& out, const std::string& data_dir);

int RunOneShot(const RunOptions& options, std::FILE* out, std::FILE* err);

}  // namespace fieldloop::cli

#endif  // FIELDLOOP_SERVICES_CLI_RUN_COMMAND_H_
