// `fieldloop themes`, `fieldloop theme` and `fieldloop watch`: the Themes service from the
// command line, as readable tables, or with --json one JSON object per line (the proto3
// JSON mapping of the API's messages, snake_case field names) for scripts.
#ifndef FIELDLOOP_SERVICES_CLI_THEMES_COMMANDS_H_
#define FIELDLOOP_SERVICES_CLI_THEMES_COMMANDS_H_

#include <cstdint>
#include <cstdio>
#include <string>

#include "services/cli/connect.h"

namespace fieldloop::cli {

struct ThemesOptions {
  std::string server;      // host:port of fieldloopd. Required.
  std::string initiative;  // Required.
  bool json = false;       // JSON Lines instead of a table.
  std::string as_of;       // YYYY-MM-DD; empty: the server's today (UTC).
  int connect_timeout_s = kDefaultConnectTimeoutS;
  TransportOptions transport;  // TLS and access token (--tls_ca, ..., --token_file).
  // themes: filters ("" = any), order (priority, mentions, recency) and how many to print
  // (0: all).
  std::string region, segment, source;
  std::string since;  // YYYY-MM-DD: last seen on or after that day (UTC).
  std::string order = "priority";
  int limit = 20;
  // theme: the id. watch: the version to resume after (0: snapshot first).
  int64_t theme_id = -1;
  int64_t from_version = 0;
};

// Exit status of each: 0 done, 1 usage or connection error, 2 the server refused the
// request (its message is printed on `err`).
int RunListThemes(const ThemesOptions& options, std::FILE* out, std::FILE* err);
int RunGetTheme(const ThemesOptions& options, std::FILE* out, std::FILE* err);
// Prints changes until the server ends the stream (shutdown: exit 0) or the connection
// breaks (exit 2).
int RunWatchThemes(const ThemesOptions& options, std::FILE* out, std::FILE* err);

}  // namespace fieldloop::cli

#endif  // FIELDLOOP_SERVICES_CLI_THEMES_COMMANDS_H_
