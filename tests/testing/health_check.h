// Test helper: grpc.health.v1.Health/Check through a generic stub (no generated health
// protos needed).
#ifndef FIELDLOOP_TESTS_TESTING_HEALTH_CHECK_H_
#define FIELDLOOP_TESTS_TESTING_HEALTH_CHECK_H_

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/grpcpp.h"

namespace fieldloop::testing {

// Health/Check of the server as a whole (service "") over `channel`, with `context` (for
// metadata such as a bearer token; nullptr: a fresh one with a 30 s deadline). Returns
// "SERVING", "NOT_SERVING", "error <code>: <message>" for a failed call, or a description
// of an unexpected answer.
inline std::string HealthStatus(const std::shared_ptr<grpc::Channel>& channel,
                                grpc::ClientContext* context = nullptr) {
  grpc::ClientContext own;
  if (context == nullptr) {
    own.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    context = &own;
  }
  grpc::GenericStub stub(channel);
  grpc::CompletionQueue cq;
  grpc::ByteBuffer response;
  grpc::Status status;
  // HealthCheckRequest{service: ""} is the empty message.
  grpc::Slice empty("");
  grpc::ByteBuffer request(&empty, 1);
  auto call = stub.PrepareUnaryCall(context, "/grpc.health.v1.Health/Check", request, &cq);
  call->StartCall();
  call->Finish(&response, &status, reinterpret_cast<void*>(1));
  void* tag;
  bool ok;
  if (!cq.Next(&tag, &ok)) return "no answer";
  if (!status.ok())
    return absl::StrCat("error ", status.error_code(), ": ", status.error_message());
  std::vector<grpc::Slice> slices;
  std::string bytes;
  if (response.Dump(&slices).ok()) {
    for (const auto& s : slices) bytes.append(reinterpret_cast<const char*>(s.begin()), s.size());
  }
  // HealthCheckResponse{status} is field 1, a varint: SERVING 1, NOT_SERVING 2.
  if (bytes == std::string("\x08\x01", 2)) return "SERVING";
  if (bytes == std::string("\x08\x02", 2)) return "NOT_SERVING";
  return absl::StrCat("unexpected response of ", bytes.size(), " bytes");
}

// HealthStatus over an insecure channel to `address`.
inline std::string HealthStatus(const std::string& address) {
  return HealthStatus(grpc::CreateChannel(address, grpc::InsecureChannelCredentials()));
}

}  // namespace fieldloop::testing

#endif  // FIELDLOOP_TESTS_TESTING_HEALTH_CHECK_H_
