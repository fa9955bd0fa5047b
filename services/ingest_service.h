// IngestService: the gRPC front end of Ingest.Stream. Translates bytes to requests and acks
// to bytes; the rules live in Ingestor.
//
// The method is registered "raw" (ByteBuffer in and out) so that a request that cannot be
// decoded (for example a string field holding invalid UTF-8, which protobuf refuses to
// parse) is rejected on its own instead of killing the stream.
//
// Per stream: reads are pipelined (the next read starts as soon as a request is handed to
// the Ingestor, up to IngestLimits::max_inflight_per_stream requests read and not yet
// acked), acks are written one at a time in request order. A producer that does not read
// its acks therefore stops being read, and HTTP/2 flow control pushes back on it: server
// memory per stream stays bounded. Limits (IngestLimits) refuse streams beyond
// max_streams with RESOURCE_EXHAUSTED and end idle ones with UNAVAILABLE; neither ever
// drops a record that was acked (acks are sent only for stored records, and every request
// read is acked before a stream ends normally). When a stream is over, one INFO line sums it up in
// the event log (peer, requests read, acks by status, the first kMaxRejectsLogged reject reasons);
// nothing is logged per record.
#ifndef FIELDLOOP_SERVICES_INGEST_SERVICE_H_
#define FIELDLOOP_SERVICES_INGEST_SERVICE_H_

#include <cstddef>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_set.h"
#include "absl/synchronization/mutex.h"
#include "grpcpp/grpcpp.h"
#include "proto/fieldloop/v1/ingest.grpc.pb.h"
#include "services/auth.h"
#include "services/event_log.h"
#include "services/ingestor.h"
#include "services/metrics.h"
#include "services/theme_applier.h"

namespace fieldloop::services {

class IngestStream;

// Per-service limits on Ingest.Stream calls (fieldloopd's --max_streams,
// --max_inflight_per_stream, --stream_idle_timeout).
struct IngestLimits {
  // Most Ingest.Stream calls open at once (counted until each sends its final status). One
  // more is ended at once with RESOURCE_EXHAUSTED naming the limit; once a stream ends a
  // new one is accepted. Must be >= 1.
  // Default: 64.
  int max_streams = 64;
  // Most requests of one stream read and not yet acked (the ack not yet handed to gRPC);
  // reading that stream pauses there and resumes as its acks are written. Bounds the
  // memory a stream can hold to this many requests (plus gRPC's HTTP/2 window). Must be
  // >= 1.
  // Default: 4096.
  size_t max_inflight_per_stream = 4096;
  // A stream that for this long has read no request and written no ack, while waiting on
  // nothing (every request read was acked), is ended: UNAVAILABLE "idle for <duration>".
  // What it read is acked first. If its client does not take that final status (it reads
  // nothing) for another such period, the call is cancelled. Checked by one thread per
  // service, to the millisecond. ZeroDuration: never.
  // Default: 10 minutes.
  absl::Duration idle_timeout = absl::Minutes(10);
};

class IngestService
    : public fieldloop::v1::Ingest::WithRawCallbackMethod_Stream<
          fieldloop::v1::Ingest::WithCallbackMethod_WaitApplied<fieldloop::v1::Ingest::Service>> {
 public:
  // Most reject reasons named in the summary line of one stream; the rest are counted.
  static constexpr int kMaxRejectsLogged = 3;

  // `ingestor`, `applier`, `log` and `metrics` must outlive the service and every call it
  // started. `log` nullptr: streams are not logged. `metrics` nullptr: open and refused
  // streams are not counted. With a nonzero limits.idle_timeout, starts the thread that
  // ends idle streams.
  //
  // Access control by `authorizer` (nullptr: none; it must outlive the service): a stream
  // needs Permission::kIngest (ended at once with UNAUTHENTICATED or PERMISSION_DENIED
  // otherwise), and a record for an initiative its token does not cover is acked REJECTED
  // with REJECT_CODE_PERMISSION_DENIED, field "<kind>.initiative", the stream going on.
  // WaitApplied needs Permission::kWaitApplied on its initiative.
  IngestService(Ingestor* ingestor, ThemeApplier* applier, EventLog* log = nullptr,
                IngestLimits limits = {}, ServerMetrics* metrics = nullptr,
                const Authorizer* authorizer = nullptr);
  // Stops the idle thread. Every call must be done (WaitForStreams) before.
  ~IngestService() override;
  IngestService(const IngestService&) = delete;
  IngestService& operator=(const IngestService&) = delete;

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
  // The idle thread: ends streams idle for limits_.idle_timeout until stopping_.
  void EndIdleStreams() ABSL_LOCKS_EXCLUDED(mu_);

  Ingestor* const ingestor_;
  ThemeApplier* const applier_;
  EventLog* const log_;
  const IngestLimits limits_;
  ServerMetrics* const metrics_;        // nullptr: not counted.
  const Authorizer* const authorizer_;  // nullptr: no access control.
  absl::Mutex mu_;
  bool draining_ ABSL_GUARDED_BY(mu_) = false;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;  // The idle thread is to end.
  absl::flat_hash_set<IngestStream*> streams_ ABSL_GUARDED_BY(mu_);
  // Lock order: mu_, then a stream's lock, then finish_mu_.
  absl::Mutex finish_mu_ ABSL_ACQUIRED_AFTER(mu_);
  int unfinished_ ABSL_GUARDED_BY(finish_mu_) = 0;  // Streams that have not called Finish.
  std::thread idle_thread_;  // Runs EndIdleStreams; not started with no idle_timeout.
};

}  // namespace fieldloop::services

#endif  // FIELDLOOP_SERVICES_INGEST_SERVICE_H_
