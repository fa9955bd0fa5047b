// `fieldloop forget`: removes records of one initiative by id or by rep id from a running
// server (Admin.Forget), for personal-data requests. Rules: docs/operations.md ("Personal
// data").
#ifndef FIELDLOOP_SERVICES_CLI_FORGET_COMMAND_H_
#define FIELDLOOP_SERVICES_CLI_FORGET_COMMAND_H_

#include <cstdio>
#include <string>
#include <vector>

#include "services/cli/connect.h"

namespace fieldloop::cli {

struct ForgetOptions {
  std::string server;      // host:port of fieldloopd.
  std::string initiative;  // Required.
  // Ids of records of any kind to remove (--record_id, repeatable).
  std::vector<std::string> record_ids;
  // Removes every feedback event, call transcript and onboarding metric row of this rep.
  std::string rep_id;
  int connect_timeout_s = kDefaultConnectTimeoutS;
  TransportOptions transport;  // TLS and access token (--tls_ca, ..., --token_file).
};

// Asks the server to forget the selected records and prints what was removed, per kind, and
// the themes before and after (counts only). Exit status: 0 done (also when nothing
// matched); 2 the server refused or failed (bad request, unknown initiative, I/O error;
// named on `err`); 1 usage or connection error (no --server, --initiative, or selector).
int RunForget(const ForgetOptions& options, std::FILE* out, std::FILE* err);

}  // namespace fieldloop::cli

#endif  // FIELDLOOP_SERVICES_CLI_FORGET_COMMAND_H_
