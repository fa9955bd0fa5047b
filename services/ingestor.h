// Ingestor: validates records and appends them to the store with group commit. Knows
// nothing of gRPC: the ingest service hands it parsed requests and gets acks back.
//
// Validation runs on the caller's thread. Valid records go to a queue; one committer thread
// takes everything queued (up to IngestorOptions::max_batch records) and appends it in one
// RocksDB WriteBatch, so with --sync_writes one fsync covers many records from many streams.
#ifndef FIELDLOOP_SERVICES_INGESTOR_H_
#define FIELDLOOP_SERVICES_INGESTOR_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "pipeline/record_validator.h"
#include "proto/fieldloop/v1/ingest.pb.h"
#include "services/clock.h"
#include "services/event_log.h"
#include "services/metrics.h"
#include "storage/store.h"

namespace fieldloop::services {

// The store's form of a record with identity `id` and serialized IngestRequest `payload`.
inline storage::RecordToAppend ToAppend(pipeline::RecordIdentity id, std::string payload) {
  return storage::RecordToAppend{std::move(id.initiative),
                                 static_cast<storage::RecordKind>(id.kind), std::move(id.id),
                                 std::move(payload)};
}

struct IngestorOptions {
  // Limits records are validated against (max_record_bytes is the server's
  // --max_record_bytes).
  pipeline::ValidationLimits limits;
  // Most records appended in one WriteBatch.
  // Default: 1024.
  size_t max_batch = 1024;
  // Called on the committer thread after each WriteBatch that stored records (e.g. to
  // wake the theme applier). Must be cheap. Default: none.
  std::function<void()> on_commit;
  // Called on the committer thread before each WriteBatch; may block to slow ingest down
  // (the server waits there while theme state trails too far, --max_apply_backlog). While
  // it blocks, acks wait, the streams' in-flight windows fill and producers are slowed by
  // flow control. Default: none.
  std::function<void()> before_commit;
  // Where records received and acked, ack latencies and stored sequence numbers are
  // counted; must outlive the Ingestor. Default: nullptr (not counted, no cost).
  ServerMetrics* metrics = nullptr;
  // Where each WriteBatch is logged (DEBUG) and a batch that could not be stored (ERROR;
  // in a run of failures the 1st, 2nd, 4th, ... and the recovery); must outlive the
  // Ingestor. Never a line per record. Default: nullptr (nothing logged).
  EventLog* log = nullptr;
};

// Counters since start; read with Ingestor::stats().
struct IngestStats {
  uint64_t accepted = 0;
  uint64_t duplicate = 0;
  uint64_t rejected = 0;
  uint64_t batches = 0;  // WriteBatches written.
};

class Ingestor {
 public:
  // Called exactly once per submitted request with its ack (request_index is left 0 for
  // the caller to fill). May run on the committer thread: it must not block for long.
  using AckCallback = std::function<void(fieldloop::v1::IngestAck)>;

  // `store` and `clock` must outlive the Ingestor. Starts the committer thread.
  Ingestor(storage::Store* store, const Clock* clock, IngestorOptions options);
  // Stops (see Stop) and joins the committer thread.
  ~Ingestor();
  Ingestor(const Ingestor&) = delete;
  Ingestor& operator=(const Ingestor&) = delete;

  // Submits one request; `wire` is its serialized form as received (stored as is). A
  // rejected record is acked before Submit returns; a valid one once its batch is written
  // (durable per the store's sync option). When the batch cannot be written its records are
  // acked REJECTED with code UNAVAILABLE (the store cannot write now: disk full, I/O error;
  // field "request", the storage error in the message) or INTERNAL (any other failure).
  // After Stop, records are acked REJECTED with code INTERNAL.
  void Submit(const fieldloop::v1::IngestRequest& request, std::string wire, AckCallback done)
      ABSL_LOCKS_EXCLUDED(mu_);

  // Acks a request that could not even be decoded (rejected with `message`).
  void RejectUndecodable(const std::string& message, AckCallback done) ABSL_LOCKS_EXCLUDED(mu_);

  // Writes what is queued, then stops and joins the committer. Idempotent; must not be
  // called from an AckCallback.
  void Stop() ABSL_LOCKS_EXCLUDED(mu_);

  IngestStats stats() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  struct Pending {
    pipeline::RecordIdentity identity;
    std::string payload;  // The serialized IngestRequest.
    AckCallback done;
    // When Submit got it; set only with metrics (ack latency).
    std::chrono::steady_clock::time_point received;
  };

  void CommitLoop();
  void CommitBatch(std::deque<Pending>& batch);
  // Counts the acks of a written (or failed: `results` nullptr) batch in options_.metrics.
  void CountBatch(const std::deque<Pending>& batch,
                  const std::vector<fieldloop::v1::IngestAck>& acks,
                  const std::vector<storage::AppendResult>* results);

  storage::Store* const store_;
  const Clock* const clock_;
  const IngestorOptions options_;

  mutable absl::Mutex mu_;
  std::deque<Pending> queue_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  IngestStats stats_ ABSL_GUARDED_BY(mu_);
  uint64_t failed_batches_in_row_ = 0;  // Committer thread only.
  absl::Mutex join_mu_;                 // Serializes joining committer_.
  std::thread committer_;
};

}  // namespace fieldloop::services

#endif  // FIELDLOOP_SERVICES_INGESTOR_H_
