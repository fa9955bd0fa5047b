// Test helpers for talking to a fieldloop server: records and a whole-stream client.
#ifndef FIELDLOOP_TESTS_TESTING_INGEST_CLIENT_H_
#define FIELDLOOP_TESTS_TESTING_INGEST_CLIENT_H_

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "grpcpp/grpcpp.h"
#include "proto/fieldloop/v1/ingest.grpc.pb.h"

namespace fieldloop::testing {

// A valid feedback event "fb-<n>" of `initiative`, dated 2026-09-01.
inline fieldloop::v1::IngestRequest Feedback(int n, const std::string& initiative = "q3-push") {
  fieldloop::v1::IngestRequest r;
  auto* e = r.mutable_feedback_event();
  e->set_id(absl::StrCat("fb-", n));
  e->set_initiative(initiative);
  e->set_source(fieldloop::v1::SOURCE_CALL);
  e->set_rep_id(absl::StrCat("rep-", n % 25));
  e->set_region(n % 2 ? "EMEA" : "NA");
  e->set_segment(n % 3 ? "SMB" : "Enterprise");
  e->mutable_occurred_at()->set_seconds(1788264000 + n);  // 2026-09-01.
  e->set_text(absl::StrCat("Buyer ", n, " pushed back on price versus Acme CRM"));
  return r;
}

// A stub of fieldloop.v1.Ingest on an insecure channel to `address`.
inline std::unique_ptr<fieldloop::v1::Ingest::Stub> IngestStub(const std::string& address) {
  return fieldloop::v1::Ingest::NewStub(
      grpc::CreateChannel(address, grpc::InsecureChannelCredentials()));
}

struct StreamResult {
  std::vector<fieldloop::v1::IngestAck> acks;
  grpc::Status status;
};

// Opens one Ingest.Stream to `address`, writes all `requests` from a second thread while
// reading acks, and returns the acks and the final status.
inline StreamResult StreamAll(const std::string& address,
                              const std::vector<fieldloop::v1::IngestRequest>& requests) {
  auto stub = IngestStub(address);
  grpc::ClientContext context;
  auto stream = stub->Stream(&context);
  std::thread writer([&] {
    for (const auto& r : requests) {
      if (!stream->Write(r)) break;
    }
    stream->WritesDone();
  });
  StreamResult result;
  fieldloop::v1::IngestAck ack;
  while (stream->Read(&ack)) result.acks.push_back(ack);
  writer.join();
  result.status = stream->Finish();
  return result;
}

// Ingest.WaitApplied for `initiative` on the server at `address`: returns once theme state
// reflects every record acked so far (or the server's error, or DEADLINE_EXCEEDED at 60 s).
inline grpc::Status WaitApplied(const std::string& address, const std::string& initiative) {
  auto stub = IngestStub(address);
  grpc::ClientContext context;
  fieldloop::v1::WaitAppliedRequest request;
  request.set_initiative(initiative);
  request.set_timeout_ms(60000);
  fieldloop::v1::WaitAppliedResponse response;
  return stub->WaitApplied(&context, request, &response);
}

}  // namespace fieldloop::testing

#endif  // FIELDLOOP_TESTS_TESTING_INGEST_CLIENT_H_
