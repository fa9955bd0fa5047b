// IngestService: the gRPC front end of Ingest.Stream. Translates bytes to requests and acks
// to bytes; the rules live in Ingestor.
//
// The method is registered "raw" (ByteBuffer in and out) so that a request that cannot be
// decoded (for example a string field holding invalid UTF-8, which protobuf refuses to
// parse) is rejected on its own instead of killing the stream.
//
// Per stream: reads are pipelined (the next read starts as soon as a request is handed to
// the Ingestor, up to kMaxInFlight unacked requests), acks are written one at a time in
// request order. When a stream is over, one INFO line sums it up in the event log (peer,
// requests read, acks by status, the first kMaxRejectsLogged reject reasons); nothing is
// logged per record.
#ifndef FIELDLOOP_SERVICES_INGEST_SERVICE_H_
#define FIELDLOOP_SERVICES_INGEST_SERVICE_H_

#include <cstddef>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_set.h"
#include "absl/synchronization/mutex.h"
#include "grpcpp/grpcpp.h"
#include "proto/fieldloop/v1/ingest.grpc.pb.h"
#include "services/event_log.h"
#include "services/ingestor.h"
#include "services/theme_applier.h"

namespace fieldloop::services {

class IngestStream;

class IngestService
    : public fieldloop::v1::Ingest::WithRawCallbackMethod_Stream<
          fieldloop::v1::Ingest::WithCallbackMethod_WaitApplied<fieldloop::v1::Ingest::Service>> {
 public:
  // Most requests of one stream read but not yet acked; reading pauses beyond it.
  static constexpr size_t kMaxInFlight = 4096;

  // Most reject reasons named in the summary line of one stream; the rest are counted.
  static constexpr int kMaxRejectsLogged = 3;

  // `ingestor`, `applier` and `log` must outlive the service and every call it started.
  // `log` nullptr: streams are not logged.
  IngestService(Ingestor* ingestor, ThemeApplier* applier, EventLog* log = nullptr)
      : ingestor_(ingestor), applier_(applier), log_(log) {}

  grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer>* Stream(
      grpc::CallbackServerContext* context) override;

  grpc::ServerUnaryReactor* WaitApplied(grpc::CallbackServerContext* context,
                                        const fieldloop::v1::WaitAppliedRequest* request,
                                        fieldloop::v1::WaitAppliedResponse* response) override;

  // Asks every open stream to finish: each acks what it has read, then ends with
  // UNAVAILABLE. New streams are refused with UNAVAILABLE. Returns at once.
  void Drain() ABSL_LOCKS_EXCLUDED(mu_);

  // Blocks until every stream has sent its final status (after Drain), or `deadline`.
  // Returns true if all did.
  bool WaitForFinished(absl::Time deadline) ABSL_LOCKS_EXCLUDED(finish_mu_);

  // Blocks until no stream is open.
  void WaitForStreams() ABSL_LOCKS_EXCLUDED(mu_);

 private:
  friend class IngestStream;
  void Unregister(IngestStream* stream) ABSL_LOCKS_EXCLUDED(mu_);
  void CountFinished() ABSL_LOCKS_EXCLUDED(finish_mu_);

  Ingestor* const ingestor_;
  ThemeApplier* const applier_;
  EventLog* const log_;
  absl::Mutex mu_;
  bool draining_ ABSL_GUARDED_BY(mu_) = false;
  absl::flat_hash_set<IngestStream*> streams_ ABSL_GUARDED_BY(mu_);
  // Lock order: mu_, then a stream's lock, then finish_mu_.
  absl::Mutex finish_mu_ ABSL_ACQUIRED_AFTER(mu_);
  int unfinished_ ABSL_GUARDED_BY(finish_mu_) = 0;  // Streams that have not called Finish.
};

}  // namespace fieldloop::services

#endif  // FIELDLOOP_SERVICES_INGEST_SERVICE_H_
