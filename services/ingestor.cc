#include "services/ingestor.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"

namespace fieldloop::services {
namespace {

using fieldloop::v1::IngestAck;

IngestAck RejectedAck(const pipeline::RecordIdentity& identity, fieldloop::v1::RejectCode code,
                      std::string field, std::string message) {
  IngestAck ack;
  ack.set_record_id(identity.id);
  ack.set_kind(identity.kind);
  ack.set_status(fieldloop::v1::ACK_STATUS_REJECTED);
  ack.set_code(code);
  ack.set_field(std::move(field));
  ack.set_message(std::move(message));
  return ack;
}

double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// Counts one record rejected before it reached the store (`metrics` may be nullptr).
void CountRejected(ServerMetrics* metrics, fieldloop::v1::RecordKind kind,
                   std::chrono::steady_clock::time_point received) {
  if (metrics == nullptr) return;
  metrics->RecordAcked(kind, fieldloop::v1::ACK_STATUS_REJECTED);
  metrics->ObserveAckLatencies({SecondsSince(received)});
}

}  // namespace

Ingestor::Ingestor(storage::Store* store, const Clock* clock, IngestorOptions options)
    : store_(store), clock_(clock), options_(options), committer_([this] { CommitLoop(); }) {}

Ingestor::~Ingestor() { Stop(); }

void Ingestor::Submit(const fieldloop::v1::IngestRequest& request, std::string wire,
                      AckCallback done) {
  Pending pending;
  pending.identity = pipeline::IdentityOf(request);
  if (options_.metrics != nullptr) {
    pending.received = std::chrono::steady_clock::now();
    options_.metrics->RecordReceived(pending.identity.kind);
  }
  std::optional<pipeline::Rejection> rejection =
      pipeline::Validate(request, wire.size(), options_.limits, clock_->Now());
  if (rejection) {
    {
      absl::MutexLock lock(&mu_);
      ++stats_.rejected;
    }
    CountRejected(options_.metrics, pending.identity.kind, pending.received);
    done(RejectedAck(pending.identity, rejection->code, std::move(rejection->field),
                     std::move(rejection->message)));
    return;
  }
  pending.payload = std::move(wire);
  pending.done = std::move(done);
  {
    absl::MutexLock lock(&mu_);
    if (!stopping_) {
      queue_.push_back(std::move(pending));
      return;
    }
    ++stats_.rejected;
  }
  CountRejected(options_.metrics, pending.identity.kind, pending.received);
  pending.done(RejectedAck(pending.identity, fieldloop::v1::REJECT_CODE_INTERNAL, "record",
                           "server is shutting down; resend this record"));
}

void Ingestor::RejectUndecodable(const std::string& message, AckCallback done) {
  if (options_.metrics != nullptr) {
    options_.metrics->RecordReceived(fieldloop::v1::RECORD_KIND_UNSPECIFIED);
  }
  {
    absl::MutexLock lock(&mu_);
    ++stats_.rejected;
  }
  CountRejected(options_.metrics, fieldloop::v1::RECORD_KIND_UNSPECIFIED,
                std::chrono::steady_clock::now());
  done(RejectedAck({}, fieldloop::v1::REJECT_CODE_MALFORMED, "request", message));
}

void Ingestor::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  absl::MutexLock join_lock(&join_mu_);
  if (committer_.joinable()) committer_.join();
}

IngestStats Ingestor::stats() const {
  absl::MutexLock lock(&mu_);
  return stats_;
}

void Ingestor::CommitLoop() {
  std::deque<Pending> batch;
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(
          +[](Ingestor* self)
               ABSL_NO_THREAD_SAFETY_ANALYSIS { return !self->queue_.empty() || self->stopping_; },
          this));
      if (queue_.empty() && stopping_) return;
      while (!queue_.empty() && batch.size() < options_.max_batch) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    if (options_.before_commit) options_.before_commit();
    CommitBatch(batch);
    batch.clear();
  }
}

void Ingestor::CommitBatch(std::deque<Pending>& batch) {
  std::vector<storage::RecordToAppend> records;
  records.reserve(batch.size());
  for (Pending& p : batch) {
    records.push_back(ToAppend(p.identity, std::move(p.payload)));
  }
  absl::StatusOr<std::vector<storage::AppendResult>> results = store_->Append(records);
  std::vector<IngestAck> acks(batch.size());
  uint64_t accepted = 0, duplicate = 0, rejected = 0;
  for (size_t i = 0; i < batch.size(); ++i) {
    const pipeline::RecordIdentity& identity = batch[i].identity;
    if (!results.ok()) {
      // Unavailable: the store cannot write now (disk full, I/O error) and recovers by
      // itself; anything else is a failure of the server.
      acks[i] =
          absl::IsUnavailable(results.status())
              ? RejectedAck(identity, fieldloop::v1::REJECT_CODE_UNAVAILABLE, "request",
                            absl::StrCat("the server cannot store records now, resend later: ",
                                         results.status().message()))
              : RejectedAck(identity, fieldloop::v1::REJECT_CODE_INTERNAL, "record",
                            absl::StrCat("storing failed, resend this record: ",
                                         results.status().message()));
      ++rejected;
      continue;
    }
    const storage::AppendResult& r = (*results)[i];
    acks[i].set_record_id(identity.id);
    acks[i].set_kind(identity.kind);
    acks[i].set_sequence(r.sequence);
    if (r.outcome == storage::AppendOutcome::kAccepted) {
      acks[i].set_status(fieldloop::v1::ACK_STATUS_ACCEPTED);
      ++accepted;
    } else {
      acks[i].set_status(fieldloop::v1::ACK_STATUS_DUPLICATE);
      ++duplicate;
    }
  }
  {
    absl::MutexLock lock(&mu_);
    stats_.accepted += accepted;
    stats_.duplicate += duplicate;
    stats_.rejected += rejected;
    ++stats_.batches;
  }
  if (EventLog* log = options_.log; log != nullptr) {
    if (!results.ok()) {
      ++failed_batches_in_row_;
      if (IsLoggedRepeat(failed_batches_in_row_)) {
        log->Error("ingest",
                   "storing a batch of %zu records failed (%d failed batches in a row; each "
                   "record is acked REJECTED, %s): %s",
                   batch.size(), failed_batches_in_row_,
                   absl::IsUnavailable(results.status()) ? "UNAVAILABLE" : "INTERNAL",
                   results.status().message());
      }
    } else {
      if (failed_batches_in_row_ > 0) {
        log->Info("ingest", "storing records works again after %d failed batches",
                  failed_batches_in_row_);
        failed_batches_in_row_ = 0;
      }
      log->Debug("ingest", "wrote a batch of %zu records: %d accepted, %d duplicate", batch.size(),
                 accepted, duplicate);
    }
  }
  // Counted before any ack goes out, so a client that saw its acks sees them counted.
  if (options_.metrics != nullptr) CountBatch(batch, acks, results.ok() ? &*results : nullptr);
  if (accepted > 0 && options_.on_commit) options_.on_commit();
  for (size_t i = 0; i < batch.size(); ++i) batch[i].done(std::move(acks[i]));
}

void Ingestor::CountBatch(const std::deque<Pending>& batch,
                          const std::vector<fieldloop::v1::IngestAck>& acks,
                          const std::vector<storage::AppendResult>* results) {
  ServerMetrics* const metrics = options_.metrics;
  const auto now = std::chrono::steady_clock::now();
  std::vector<double> latencies;
  latencies.reserve(batch.size());
  // Last sequence stored per initiative: almost always one or two in a batch.
  absl::flat_hash_map<absl::string_view, storage::SequenceNumber> stored;
  for (size_t i = 0; i < batch.size(); ++i) {
    metrics->RecordAcked(acks[i].kind(), acks[i].status());
    latencies.push_back(std::chrono::duration<double>(now - batch[i].received).count());
    if (results != nullptr && (*results)[i].outcome == storage::AppendOutcome::kAccepted) {
      storage::SequenceNumber& last = stored[batch[i].identity.initiative];
      last = std::max(last, (*results)[i].sequence);
    }
  }
  metrics->ObserveAckLatencies(latencies);
  for (const auto& [initiative, last] : stored) {
    metrics->RecordStored(std::string(initiative), last);
  }
}

}  // namespace fieldloop::services
