// Connecting the command-line client to fieldloopd.
#ifndef FIELDLOOP_SERVICES_CLI_CONNECT_H_
#define FIELDLOOP_SERVICES_CLI_CONNECT_H_

#include <chrono>
#include <cstdio>
#include <memory>
#include <string>

#include "grpcpp/grpcpp.h"

namespace fieldloop::cli {

// Default of --connect_timeout, in seconds.
inline constexpr int kDefaultConnectTimeoutS = 10;

// An insecure channel to `server`, connected within `timeout_s` seconds; nullptr after
// printing "fieldloop <command>: cannot connect to <server> ..." to `err` otherwise.
inline std::shared_ptr<grpc::Channel> Connect(const char* command, const std::string& server,
                                              int timeout_s, std::FILE* err) {
  auto channel = grpc::CreateChannel(server, grpc::InsecureChannelCredentials());
  if (!channel->WaitForConnected(std::chrono::system_clock::now() +
                                 std::chrono::seconds(timeout_s))) {
    std::fprintf(err, "fieldloop %s: cannot connect to %s (is fieldloopd running?)\n", command,
                 server.c_str());
    return nullptr;
  }
  return channel;
}

}  // namespace fieldloop::cli

#endif  // FIELDLOOP_SERVICES_CLI_CONNECT_H_
