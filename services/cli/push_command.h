// `fieldloop push`: streams record files to a server and reports what happened to each.
#ifndef FIELDLOOP_SERVICES_CLI_PUSH_COMMAND_H_
#define FIELDLOOP_SERVICES_CLI_PUSH_COMMAND_H_

#include <cstdio>
#include <string>
#include <vector>

#include "services/cli/connect.h"

namespace fieldloop::cli {

struct PushOptions {
  std::string server;      // host:port of fieldloopd.
  std::string initiative;  // Initiative of CSV rows; must match JSON records that set one.
  std::vector<std::string> files;
  bool progress = false;  // Show a progress line updated in place (on a terminal).
  int connect_timeout_s = kDefaultConnectTimeoutS;  // How long to wait for the server.
  TransportOptions transport;  // TLS and access token (--tls_ca, ..., --token_file).
};

// Exit status of push.
inline constexpr int kPushOk = 0;         // Every record accepted or duplicate.
inline constexpr int kPushUsageOrIo = 1;  // Usage, file or connection error.
inline constexpr int kPushRejected = 2;   // At least one record rejected or malformed.

// Runs push; writes the summary to `out` and progress, rejections and errors to `err`.
// Returns one of the exit statuses above.
int RunPush(const PushOptions& options, std::FILE* out, std::FILE* err);

}  // namespace fieldloop::cli

#endif  // FIELDLOOP_SERVICES_CLI_PUSH_COMMAND_H_
