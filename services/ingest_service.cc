#include "services/ingest_service.h"

#include <algorithm>
#include <deque>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "pipeline/record_validator.h"

namespace fieldloop::services {
namespace {

using fieldloop::v1::IngestAck;

// `text` cut to at most `max` bytes (not inside a UTF-8 sequence), "..." marking a cut.
std::string Truncated(absl::string_view text, size_t max) {
  if (text.size() <= max) return std::string(text);
  size_t end = max;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xc0) == 0x80) --end;
  return absl::StrCat(text.substr(0, end), "...");
}

// "127.0.0.1:5555" or "[::1]:5555" from gRPC's "ipv4:127.0.0.1:5555" or
// "ipv6:%5B::1%5D:5555"; other forms (unix:...) as gRPC gives them.
std::string PeerAddress(std::string peer) {
  for (absl::string_view prefix : {"ipv4:", "ipv6:"}) {
    if (absl::StartsWith(peer, prefix)) {
      return absl::StrReplaceAll(peer.substr(prefix.size()), {{"%5B", "["}, {"%5D", "]"}});
    }
  }
  return peer;
}

// "record_id: field: reason" of a rejected ack; a request without a record id is named
// by its index. The ack's message is "<record>: <field>: <rule>" (pipeline/record_validator);
// only the rule is kept of it. Capped, so a huge id cannot make a huge line.
std::string RejectReason(const IngestAck& ack) {
  const std::string id = ack.record_id().empty() ? absl::StrCat("request ", ack.request_index())
                                                 : Truncated(ack.record_id(), 64);
  absl::string_view reason = ack.message();
  const std::string field_prefix = absl::StrCat(ack.field(), ": ");
  if (const size_t at = reason.find(field_prefix); !ack.field().empty() && at != reason.npos) {
    reason.remove_prefix(at + field_prefix.size());
  }
  return absl::StrCat(id, ": ", Truncated(ack.field(), 64), ": ", Truncated(reason, 200));
}

}  // namespace

// One Ingest.Stream call. Deletes itself when gRPC is done with it and no ack is pending.
class IngestStream : public grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer> {
 public:
  IngestStream(IngestService* service, Ingestor* ingestor, EventLog* log,
               grpc::CallbackServerContext* context, size_t max_inflight, Caller caller = {})
      : caller_(caller),
        service_(service),
        ingestor_(ingestor),
        log_(log),
        context_(context),
        max_inflight_(max_inflight),
        peer_(PeerAddress(context->peer())),
        start_(absl::Now()) {
    if (log_ != nullptr) log_->Debug("ingest", "stream from %s opened", peer_);
    absl::MutexLock lock(&mu_);
    last_activity_ = start_;
    reading_ = true;
    StartRead(&read_buf_);
  }

  // Runs once gRPC is done with the stream and every request read was acked.
  ~IngestStream() override { LogSummary(); }

  void OnReadDone(bool ok) override {
    if (!ok) {
      absl::MutexLock lock(&mu_);
      reading_ = false;
      reads_done_ = true;
      MaybeFinishLocked();
      return;
    }
    // reading_ stays true until the request is handed over, so that no other callback
    // starts the next read (reusing read_buf_, or overtaking this request) meanwhile.
    uint64_t index;
    {
      absl::MutexLock lock(&mu_);
      last_activity_ = absl::Now();
      index = next_index_++;
      slots_.emplace_back();
      ++outstanding_;
    }
    std::string bytes;
    DumpTo(read_buf_, &bytes);
    read_buf_.Clear();
    auto done = [this, index](IngestAck ack) { OnAck(index, std::move(ack)); };
    fieldloop::v1::IngestRequest request;
    if (!request.ParseFromString(bytes)) {
      ingestor_->RejectUndecodable(
          absl::StrCat("request ", index,
                       " could not be decoded as fieldloop.v1.IngestRequest (malformed "
                       "protobuf, or a string field that is not valid UTF-8)"),
          done);
    } else if (std::optional<IngestAck> denied = OutOfScope(request)) {
      done(*std::move(denied));
    } else {
      ingestor_->Submit(request, std::move(bytes), done);
    }
    absl::MutexLock lock(&mu_);
    reading_ = false;
    MaybeReadLocked();
  }

  void OnWriteDone(bool ok) override {
    absl::MutexLock lock(&mu_);
    writing_ = false;
    if (!ok) broken_ = true;  // Client gone: drop the remaining acks.
    if (ok) last_activity_ = absl::Now();
    MaybeWriteLocked();
    MaybeReadLocked();
    MaybeFinishLocked();
  }

  void OnCancel() override {
    absl::MutexLock lock(&mu_);
    broken_ = true;
    MaybeFinishLocked();
  }

  void OnDone() override {
    // Unregister first: once done_ is set, OnAck may delete this on another thread.
    service_->Unregister(this);
    bool last;
    {
      absl::MutexLock lock(&mu_);
      done_ = true;
      last = outstanding_ == 0;
    }
    if (last) delete this;
  }

  // Finish after acking what was read.
  void Drain() {
    absl::MutexLock lock(&mu_);
    draining_ = true;
    MaybeFinishLocked();
  }

  // What the idle thread should do with this stream as of `now`.
  enum class IdleCheck {
    kKeep,    // Not idle (or already finished).
    kCancel,  // Ended for idleness a `timeout` ago and still not finished: call Cancel.
  };
  // Ends the stream (stops reading, acks what it read, then UNAVAILABLE) if for `timeout`
  // it read nothing, wrote nothing and waited on no ack. Sets *next_check to when it may
  // next be due. kCancel gates Finish until Cancel runs, so the call stays alive for it.
  IdleCheck CheckIdle(absl::Time now, absl::Duration timeout, absl::Time* next_check) {
    absl::MutexLock lock(&mu_);
    *next_check = absl::InfiniteFuture();
    if (finished_ || cancel_pending_) return IdleCheck::kKeep;
    if (idle_) {
      // Ended for idleness, but the final status waits behind acks the client does not read.
      if (now < idle_since_ + timeout) {
        *next_check = idle_since_ + timeout;
        return IdleCheck::kKeep;
      }
      cancel_pending_ = true;
      return IdleCheck::kCancel;
    }
    if (outstanding_ > 0 || now < last_activity_ + timeout) {
      // Waiting on the Ingestor is not idle: look again a timeout later at the latest.
      *next_check = outstanding_ > 0 ? now + timeout : last_activity_ + timeout;
      return IdleCheck::kKeep;
    }
    idle_ = true;
    idle_since_ = now;
    idle_for_ = timeout;
    MaybeFinishLocked();
    if (!finished_) *next_check = now + timeout;
    return IdleCheck::kKeep;
  }

  // Cancels the call after CheckIdle returned kCancel: the client gets CANCELLED (the acks
  // it did not read are lost to it; the records are stored, a resend gets DUPLICATE).
  // Called without the service's lock: gRPC may run this stream's callbacks, OnDone
  // included, inline.
  void Cancel() {
    context_->TryCancel();  // Alive: Finish is gated by cancel_pending_, so no OnDone yet.
    absl::MutexLock lock(&mu_);
    cancel_pending_ = false;
    broken_ = true;
    MaybeFinishLocked();
  }

 private:
  static void DumpTo(const grpc::ByteBuffer& buf, std::string* out) {
    std::vector<grpc::Slice> slices;
    if (!buf.Dump(&slices).ok()) return;
    size_t total = 0;
    for (const auto& s : slices) total += s.size();
    out->reserve(total);
    for (const auto& s : slices) out->append(reinterpret_cast<const char*>(s.begin()), s.size());
  }

  void OnAck(uint64_t index, IngestAck ack) {
    bool destroy = false;
    {
      absl::MutexLock lock(&mu_);
      ack.set_request_index(index);
      CountLocked(ack);
      slots_[index - first_index_] = std::move(ack);
      --outstanding_;
      MaybeWriteLocked();
      MaybeFinishLocked();
      destroy = done_ && outstanding_ == 0;
    }
    if (destroy) delete this;
  }

  void CountLocked(const IngestAck& ack) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    switch (ack.status()) {
      case fieldloop::v1::ACK_STATUS_ACCEPTED:
        ++accepted_;
        break;
      case fieldloop::v1::ACK_STATUS_DUPLICATE:
        ++duplicate_;
        break;
      default:
        ++rejected_;
        if (log_ != nullptr && log_->Enabled(LogLevel::kInfo) &&
            rejects_.size() < IngestService::kMaxRejectsLogged) {
          rejects_.push_back(RejectReason(ack));
        }
    }
  }

  // The one line of a stream: "stream from PEER ended: N records, A accepted, D duplicate,
  // R rejected in 0.532s; first rejects: id: field: reason; ...; and K more".
  void LogSummary() ABSL_LOCKS_EXCLUDED(mu_) {
    if (log_ == nullptr || !log_->Enabled(LogLevel::kInfo)) return;
    absl::MutexLock lock(&mu_);
    const char* how = broken_ && idle_            ? "was cancelled as idle"
                      : broken_                   ? "was cancelled"
                      : idle_                     ? "was ended as idle"
                      : draining_ && !reads_done_ ? "was ended by the shutdown"
                                                  : "ended";
    std::string line = absl::StrFormat(
        "stream from %s %s: %d records, %d accepted, %d duplicate, %d rejected in %.3fs", peer_,
        how, next_index_, accepted_, duplicate_, rejected_,
        absl::ToDoubleSeconds(absl::Now() - start_));
    if (!rejects_.empty()) {
      absl::StrAppend(&line, "; first rejects: ", absl::StrJoin(rejects_, "; "));
      if (rejected_ > rejects_.size()) {
        absl::StrAppend(&line, "; and ", rejected_ - rejects_.size(), " more");
      }
    }
    log_->Write(LogLevel::kInfo, "ingest", line);
  }

  void MaybeReadLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (reading_ || reads_done_ || finished_ || broken_ || draining_ || idle_) return;
    // The flow control: resumed from OnWriteDone once an ack is handed to gRPC.
    if (slots_.size() >= max_inflight_) return;
    reading_ = true;
    StartRead(&read_buf_);
  }

  void MaybeWriteLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (writing_ || finished_ || slots_.empty() || !slots_.front().has_value()) return;
    if (broken_) {
      while (!slots_.empty() && slots_.front().has_value()) {
        slots_.pop_front();
        ++first_index_;
      }
      return;
    }
    std::string bytes;
    slots_.front()->SerializeToString(&bytes);
    slots_.pop_front();
    ++first_index_;
    grpc::Slice slice(bytes);
    write_buf_ = grpc::ByteBuffer(&slice, 1);
    writing_ = true;
    // No buffer hint: with one write in flight, a buffered write whose completion waits for
    // a flush would wait forever (seen as a hung stream).
    StartWrite(&write_buf_);
  }

  void MaybeFinishLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (finished_ || writing_ || !slots_.empty() || cancel_pending_) return;
    if (broken_) {
      finished_ = true;
      service_->CountFinished();
      Finish(grpc::Status::CANCELLED);
    } else if (reads_done_) {
      finished_ = true;
      service_->CountFinished();
      Finish(grpc::Status::OK);
    } else if (draining_) {
      finished_ = true;
      service_->CountFinished();
      Finish(grpc::Status(grpc::StatusCode::UNAVAILABLE,
                          "server shutting down: every request read so far was acked; resend "
                          "the rest to the restarted server"));
    } else if (idle_) {
      finished_ = true;
      service_->CountFinished();
      Finish(grpc::Status(
          grpc::StatusCode::UNAVAILABLE,
          absl::StrCat("stream idle for ", absl::FormatDuration(idle_for_),
                       " (--stream_idle_timeout): every request read was acked; open a new "
                       "stream to send more")));
    }
  }

  // The REJECTED ack (PERMISSION_DENIED) of a record whose initiative the caller's token does
  // not cover, or of any record once a reload of the tokens removed the token or its
  // producer role; nullopt when it may be ingested. A record with no valid initiative is
  // left to the Ingestor, which rejects it for that. Checks against the tokens in force
  // now: a reload (SIGHUP) applies from the stream's next record on.
  std::optional<IngestAck> OutOfScope(const fieldloop::v1::IngestRequest& request) {
    const Authorizer* const authorizer = service_->authorizer_;
    // One atomic load unless the tokens were reloaded since the last record.
    const absl::Status current =
        authorizer != nullptr ? authorizer->Refresh("Ingest.Stream", Permission::kIngest, &caller_)
                              : absl::OkStatus();
    // Without tokens (or with `*`) no record is out of scope: skip the identity, which the
    // Ingestor works out anyway, on this per-record path.
    if (current.ok() && caller_.CoversAll()) return std::nullopt;
    const pipeline::RecordIdentity identity = pipeline::IdentityOf(request);
    // Not valid (or no record at all): the Ingestor rejects it, whoever sent it.
    if (!pipeline::IsValidInitiative(identity.initiative)) return std::nullopt;
    if (current.ok() && caller_.Covers(identity.initiative)) return std::nullopt;
    if (authorizer != nullptr) authorizer->CountDenied("Ingest.Stream");
    IngestAck ack;
    ack.set_record_id(identity.id);
    ack.set_kind(identity.kind);
    ack.set_status(fieldloop::v1::ACK_STATUS_REJECTED);
    ack.set_code(fieldloop::v1::REJECT_CODE_PERMISSION_DENIED);
    const std::string field = absl::StrCat(
        request.GetDescriptor()->FindFieldByNumber(request.record_case())->name(), ".initiative");
    ack.set_message(absl::StrCat(
        identity.id, ": ", field, ": ",
        current.ok() ? absl::StrCat("token '", caller_.name(), "' may not ingest into initiative '",
                                    identity.initiative, "'")
                     : std::string(current.message())));
    ack.set_field(field);
    return ack;
  }

  // Who opened the stream; brought up to date with reloaded tokens by OutOfScope. Only
  // OnReadDone touches it, and reads are never concurrent (one in flight at a time).
  Caller caller_;
  IngestService* const service_;
  Ingestor* const ingestor_;
  EventLog* const log_;  // nullptr: not logged.
  // Valid until OnDone; used only to cancel a stream ended as idle whose client reads nothing.
  grpc::CallbackServerContext* const context_;
  const size_t max_inflight_;  // IngestLimits::max_inflight_per_stream.
  const std::string peer_;     // "127.0.0.1:5555".
  const absl::Time start_;
  grpc::ByteBuffer read_buf_;   // Owned by the read in flight.
  grpc::ByteBuffer write_buf_;  // Owned by the write in flight.

  absl::Mutex mu_;
  // Acks of requests first_index_, first_index_+1, ...; nullopt until acked.
  std::deque<std::optional<IngestAck>> slots_ ABSL_GUARDED_BY(mu_);
  uint64_t first_index_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t next_index_ ABSL_GUARDED_BY(mu_) = 0;
  int outstanding_ ABSL_GUARDED_BY(mu_) = 0;  // Submitted to the Ingestor, not yet acked.
  bool reading_ ABSL_GUARDED_BY(mu_) = false;
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool reads_done_ ABSL_GUARDED_BY(mu_) = false;
  bool draining_ ABSL_GUARDED_BY(mu_) = false;
  bool broken_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  bool done_ ABSL_GUARDED_BY(mu_) = false;
  // Idle timeout: last request read or ack written; set when ended as idle, and when.
  absl::Time last_activity_ ABSL_GUARDED_BY(mu_);
  bool idle_ ABSL_GUARDED_BY(mu_) = false;
  absl::Time idle_since_ ABSL_GUARDED_BY(mu_);
  absl::Duration idle_for_ ABSL_GUARDED_BY(mu_);      // The timeout it was idle for.
  bool cancel_pending_ ABSL_GUARDED_BY(mu_) = false;  // Between CheckIdle's kCancel and Cancel.
  // Acks by status, for the summary line.
  uint64_t accepted_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t duplicate_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t rejected_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<std::string> rejects_ ABSL_GUARDED_BY(mu_);  // The first kMaxRejectsLogged.
};

IngestService::IngestService(Ingestor* ingestor, ThemeApplier* applier, EventLog* log,
                             IngestLimits limits, ServerMetrics* metrics,
                             const Authorizer* authorizer)
    : ingestor_(ingestor),
      applier_(applier),
      log_(log),
      limits_(limits),
      metrics_(metrics),
      authorizer_(authorizer) {
  if (limits_.idle_timeout > absl::ZeroDuration()) {
    idle_thread_ = std::thread([this] { EndIdleStreams(); });
  }
}

IngestService::~IngestService() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (idle_thread_.joinable()) idle_thread_.join();
}

grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer>* IngestService::Stream(
    grpc::CallbackServerContext* context) {
  class Refused : public grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer> {
   public:
    explicit Refused(grpc::Status status) { Finish(std::move(status)); }
    void OnDone() override { delete this; }
  };
  // Before any limit: a caller without a valid producer token learns nothing else.
  Caller caller;
  if (grpc::Status s =
          AdmitCaller(authorizer_, *context, "Ingest.Stream", Permission::kIngest, &caller);
      !s.ok()) {
    return new Refused(std::move(s));
  }
  absl::MutexLock lock(&mu_);
  if (draining_) {
    return new Refused(grpc::Status(grpc::StatusCode::UNAVAILABLE, "server shutting down"));
  }
  {
    absl::MutexLock count_lock(&finish_mu_);
    if (unfinished_ >= limits_.max_streams) {
      if (metrics_ != nullptr) metrics_->RecordStreamRefused(StreamRefusal::kMaxStreams);
      if (log_ != nullptr) {
        log_->Debug("ingest", "stream from %s refused: %d streams open (--max_streams)",
                    PeerAddress(context->peer()), unfinished_);
      }
      return new Refused(
          grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                       absl::StrCat("too many open Ingest streams: the server takes at most ",
                                    limits_.max_streams,
                                    " at once (--max_streams); retry with backoff once one ends")));
    }
    ++unfinished_;
  }
  auto* stream =
      new IngestStream(this, ingestor_, log_, context, limits_.max_inflight_per_stream, caller);
  streams_.insert(stream);
  if (metrics_ != nullptr) metrics_->IngestStreamOpened();
  return stream;
}

void IngestService::EndIdleStreams() {
  mu_.Lock();
  while (!stopping_) {
    const absl::Time now = absl::Now();
    absl::Time next = now + limits_.idle_timeout;  // A stream opened later is due later.
    std::vector<IngestStream*> to_cancel;
    for (IngestStream* s : streams_) {
      absl::Time due;
      if (s->CheckIdle(now, limits_.idle_timeout, &due) == IngestStream::IdleCheck::kCancel) {
        to_cancel.push_back(s);
      }
      next = std::min(next, due);
    }
    if (!to_cancel.empty()) {
      // Unlocked: cancelling may run OnDone inline, which unregisters under mu_. Each stays
      // alive until its Cancel returns (its Finish is gated until then).
      mu_.Unlock();
      for (IngestStream* s : to_cancel) s->Cancel();
      mu_.Lock();
      continue;
    }
    mu_.AwaitWithDeadline(absl::Condition(&stopping_), next);
  }
  mu_.Unlock();
}

grpc::ServerUnaryReactor* IngestService::WaitApplied(
    grpc::CallbackServerContext* context, const fieldloop::v1::WaitAppliedRequest* request,
    fieldloop::v1::WaitAppliedResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (grpc::Status s = CheckAccess(authorizer_, *context, "Ingest.WaitApplied",
                                   Permission::kWaitApplied, request->initiative());
      !s.ok()) {
    reactor->Finish(std::move(s));
    return reactor;
  }
  if (absl::Status s = pipeline::CheckInitiative(request->initiative()); !s.ok()) {
    reactor->Finish(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, std::string(s.message())));
    return reactor;
  }
  const uint32_t timeout_ms = request->timeout_ms() == 0 ? 30000 : request->timeout_ms();
  applier_->WhenApplied(request->initiative(), request->sequence(),
                        absl::Now() + absl::Milliseconds(timeout_ms),
                        [reactor, response](absl::StatusOr<storage::SequenceNumber> applied) {
                          if (applied.ok()) {
                            response->set_applied_sequence(*applied);
                            reactor->Finish(grpc::Status::OK);
                          } else if (absl::IsDeadlineExceeded(applied.status())) {
                            reactor->Finish(grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED,
                                                         std::string(applied.status().message())));
                          } else if (absl::IsFailedPrecondition(applied.status())) {
                            reactor->Finish(grpc::Status(grpc::StatusCode::FAILED_PRECONDITION,
                                                         std::string(applied.status().message())));
                          } else {
                            reactor->Finish(grpc::Status(grpc::StatusCode::UNAVAILABLE,
                                                         std::string(applied.status().message())));
                          }
                        });
  return reactor;
}

void IngestService::Drain() {
  absl::MutexLock lock(&mu_);
  draining_ = true;
  for (IngestStream* s : streams_) s->Drain();
}

void IngestService::CountFinished() {
  absl::MutexLock lock(&finish_mu_);
  --unfinished_;
}

bool IngestService::WaitForFinished(absl::Time deadline) {
  absl::MutexLock lock(&finish_mu_);
  return finish_mu_.AwaitWithDeadline(absl::Condition(
                                          +[](int* n) { return *n == 0; }, &unfinished_),
                                      deadline);
}

void IngestService::WaitForStreams() {
  absl::MutexLock lock(&mu_);
  mu_.Await(absl::Condition(
      +[](absl::flat_hash_set<IngestStream*>* s) { return s->empty(); }, &streams_));
}

void IngestService::Unregister(IngestStream* stream) {
  absl::MutexLock lock(&mu_);
  streams_.erase(stream);
  if (metrics_ != nullptr) metrics_->IngestStreamClosed();
}

}  // namespace fieldloop::services
