#include "services/ingestor.h"

#include <utility>
#include <vector>

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

}  // namespace

Ingestor::Ingestor(storage::Store* store, const Clock* clock, IngestorOptions options)
    : store_(store), clock_(clock), options_(options), committer_([this] { CommitLoop(); }) {}

Ingestor::~Ingestor() { Stop(); }

void Ingestor::Submit(const fieldloop::v1::IngestRequest& request, std::string wire,
                      AckCallback done) {
  Pending pending;
  pending.identity = pipeline::IdentityOf(request);
  std::optional<pipeline::Rejection> rejection =
      pipeline::Validate(request, wire.size(), options_.limits, clock_->Now());
  if (rejection) {
    {
      absl::MutexLock lock(&mu_);
      ++stats_.rejected;
    }
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
  pending.done(RejectedAck(pending.identity, fieldloop::v1::REJECT_CODE_INTERNAL, "record",
                           "server is shutting down; resend this record"));
}

void Ingestor::RejectUndecodable(const std::string& message, AckCallback done) {
  {
    absl::MutexLock lock(&mu_);
    ++stats_.rejected;
  }
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
      acks[i] = RejectedAck(
          identity, fieldloop::v1::REJECT_CODE_INTERNAL, "record",
          absl::StrCat("storing failed, resend this record: ", results.status().message()));
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
  if (accepted > 0 && options_.on_commit) options_.on_commit();
  for (size_t i = 0; i < batch.size(); ++i) batch[i].done(std::move(acks[i]));
}

}  // namespace fieldloop::services
