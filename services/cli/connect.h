// Connecting the command-line client to fieldloopd: plaintext or TLS (mutual TLS with a
// client certificate), with or without an access token (docs/operations.md, "Access
// control and TLS").
#ifndef FIELDLOOP_SERVICES_CLI_CONNECT_H_
#define FIELDLOOP_SERVICES_CLI_CONNECT_H_

#include <cstdio>
#include <memory>
#include <string>

#include "grpcpp/grpcpp.h"

namespace fieldloop::cli {

// Default of --connect_timeout, in seconds.
inline constexpr int kDefaultConnectTimeoutS = 10;

// How a command reaches the server: the --tls_ca, --tls_cert, --tls_key and --token_file
// flags every command that talks to a server takes.
struct TransportOptions {
  // PEM file of the CA the server's certificate must chain to. Any of the three TLS files
  // set: TLS (with none set but tls_cert/tls_key, the system's roots). Default: plaintext.
  std::string tls_ca;
  // PEM files of a client certificate and its key, for a server with --tls_client_ca.
  std::string tls_cert;
  std::string tls_key;
  // File holding the access token (its first line; surrounding whitespace ignored). Empty:
  // the FIELDLOOP_TOKEN environment variable; neither: calls carry no token. There is no
  // flag holding the token itself: it would show in `ps`.
  std::string token_file;
};

// Usage text of the TransportOptions flags, for each command's help.
inline constexpr char kTransportUsage[] =
    "--tls_ca FILE (TLS; the CA of the server's certificate), --tls_cert FILE and --tls_key "
    "FILE (a client certificate for mutual TLS), --token_file FILE (access token; default the "
    "FIELDLOOP_TOKEN environment variable)";

// A channel to `server` as `transport` says, connected within `timeout_s` seconds; every
// call on it carries the token as `authorization: Bearer <token>` metadata. nullptr after
// printing "fieldloop <command>: ..." to `err` when a file cannot be read or the server
// cannot be reached in time. The token is never printed.
std::shared_ptr<grpc::Channel> Connect(const char* command, const std::string& server,
                                       int timeout_s, std::FILE* err,
                                       const TransportOptions& transport = {});

}  // namespace fieldloop::cli

#endif  // FIELDLOOP_SERVICES_CLI_CONNECT_H_
