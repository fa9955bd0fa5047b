// ServerMetrics: the Prometheus metrics of fieldloopd (docs/operations.md, "Metrics" lists
// every name). Owns a prometheus::Registry holding the metric families, a scrape-time view
// of the apply lag, the live themes and RocksDB, and, once Listen succeeds, the HTTP
// endpoint (prometheus-cpp's exposer) that serves them all at /metrics.
//
// Components (Ingestor, ThemeApplier, BoardKeeper) get a `ServerMetrics*` in their options
// that is nullptr when metrics are off; each call site tests it, so a server started
// without --metrics_listen pays nothing. Every method is thread-safe. Recording is cheap:
// counters are atomics; the ack latency histogram takes one lock per call, which the
// Ingestor makes once per WriteBatch (and once per record rejected before storing); the
// per-initiative bookkeeping of the apply lag takes a lock once per stored or applied
// batch, never per record. Values that cost something to compute (lag ages, RocksDB
// properties) are computed when scraped, not kept up to date.
//
// The endpoint only binds loopback addresses and has no access control yet (a later
// hardening issue adds it): ParseMetricsListen refuses any other host.
#ifndef FIELDLOOP_SERVICES_METRICS_H_
#define FIELDLOOP_SERVICES_METRICS_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "proto/fieldloop/v1/ingest.pb.h"
#include "services/clock.h"
#include "storage/store.h"

namespace prometheus {
class Counter;
class Gauge;
template <typename T>
class Family;
class Exposer;
class Histogram;
class Registry;
}  // namespace prometheus

namespace fieldloop::services {

// Where the metrics endpoint listens: a parsed --metrics_listen value.
struct MetricsEndpoint {
  // "127.0.0.1" or "::1": loopback only.
  std::string host;
  // 0 picks a free port (ServerMetrics::port() tells which).
  int port = 0;
};

// Parses a --metrics_listen value: a bare port ("9187") or "127.0.0.1:PORT" binds
// 127.0.0.1, "localhost:PORT" is taken as 127.0.0.1, "[::1]:PORT" binds ::1. PORT is
// 0..65535; 0 picks a free port. Returns InvalidArgument naming the value and the rule for
// anything else, in particular for any host that is not loopback ("0.0.0.0", "[::]", an
// empty host, a name or another address): the endpoint has no access control yet.
absl::StatusOr<MetricsEndpoint> ParseMetricsListen(absl::string_view listen);

// The `kind` label of a record kind: "feedback_event", "call_transcript", "win_loss_note",
// "content_asset", "onboarding_metric"; "unknown" for a request that carried no record (or
// could not be decoded) and for a value this build does not know.
absl::string_view KindLabel(fieldloop::v1::RecordKind kind);

// Why a call was refused at once by a limit: the `reason` label.
enum class StreamRefusal {
  kMaxStreams,   // Ingest.Stream beyond --max_streams: "max_streams".
  kMaxWatchers,  // Themes.WatchThemes beyond --max_watchers: "max_watchers".
};

// Why a materialization ran: the `trigger` label.
enum class MaterializeTrigger {
  kRequest,   // Board.Materialize (and so `fieldloop snapshot`): "request".
  kSchedule,  // --materialize_every / --materialize_weekly: "schedule".
};

class ServerMetrics {
 public:
  // Upper bounds (seconds) of the ack latency histogram's buckets: 100 us (an ack from an
  // idle server without --sync_writes) up to 2.5 s (a stall); fsyncs land in the middle.
  static const std::vector<double>& AckLatencyBuckets();
  // Upper bounds (seconds) of the materialization duration histogram: 10 ms to 5 min (the
  // longest BoardKeeper waits for theme state to catch up).
  static const std::vector<double>& MaterializationBuckets();

  // Creates the registry and every metric family; serves nothing until Listen. `store`
  // (RocksDB figures; the sequence numbers stored and applied when created, so that records
  // stored before this start count in the apply lag) and `clock` (the ages in the apply
  // lag) must outlive this object, or at least every scrape: call StopServing before
  // closing the store if it dies first.
  ServerMetrics(const storage::Store* store, const Clock* clock);
  // Stops serving (StopServing).
  ~ServerMetrics();
  ServerMetrics(const ServerMetrics&) = delete;
  ServerMetrics& operator=(const ServerMetrics&) = delete;

  // Starts serving the metrics at http://<endpoint>/metrics, `listen` as ParseMetricsListen
  // takes it. Returns InvalidArgument from ParseMetricsListen, FailedPrecondition when
  // already serving, Unavailable when the address cannot be bound (port in use; "[::1]"
  // with an HTTP library built without IPv6, as Debian 12's civetweb is).
  absl::Status Listen(absl::string_view listen) ABSL_LOCKS_EXCLUDED(serving_mu_);

  // The port the endpoint listens on; 0 when not serving.
  int port() const ABSL_LOCKS_EXCLUDED(serving_mu_);
  // "127.0.0.1:<port>" or "[::1]:<port>"; empty when not serving.
  std::string address() const ABSL_LOCKS_EXCLUDED(serving_mu_);

  // Closes the endpoint (a scrape in progress finishes first). Idempotent. The metrics keep
  // counting.
  void StopServing() ABSL_LOCKS_EXCLUDED(serving_mu_);

  // --- Ingest (called by the Ingestor) ---

  // One request was read from a stream; `kind` as RecordIdentity has it (UNSPECIFIED for a
  // request without a record or one that could not be decoded).
  void RecordReceived(fieldloop::v1::RecordKind kind);
  // `count` requests of `kind` were acked with `status` (accepted, duplicate or rejected;
  // other values are ignored).
  void RecordAcked(fieldloop::v1::RecordKind kind, fieldloop::v1::AckStatus status,
                   uint64_t count = 1);
  // Latencies, in seconds, of acks queued for writing at once: from the moment each request
  // reached the Ingestor (right after it was read and decoded) to its ack being handed back
  // to the stream. One histogram update for all of them.
  void ObserveAckLatencies(const std::vector<double>& seconds);

  // --- Limits (called by IngestService and ThemesService) ---

  // An Ingest.Stream call was registered / is done (the open streams gauge).
  void IngestStreamOpened();
  void IngestStreamClosed();
  // A streaming call was refused at once with RESOURCE_EXHAUSTED.
  void RecordStreamRefused(StreamRefusal reason);

  // --- Apply lag and themes ---

  // Records of `initiative` up to `last_sequence` are stored and acked (once per
  // WriteBatch, per initiative in it). Their age in the apply lag counts from now (clock).
  void RecordStored(const std::string& initiative, storage::SequenceNumber last_sequence)
      ABSL_LOCKS_EXCLUDED(mu_);
  // Theme state of `initiative` reflects every record up to `applied` and has `live_themes`
  // live themes (the ThemeApplier, after loading and after each batch).
  void RecordApplied(const std::string& initiative, storage::SequenceNumber applied,
                     size_t live_themes) ABSL_LOCKS_EXCLUDED(mu_);

  // --- Materializations (called by the BoardKeeper) ---

  // A materialization ran for `took` and succeeded (`ok`) or failed.
  void RecordMaterialization(MaterializeTrigger trigger, bool ok, absl::Duration took);

  // --- Access control (called by the Authorizer, services/auth.h) ---

  // A call or an Ingest record was refused: `code` "unauthenticated" or
  // "permission_denied", `method` "Service.Method" (a small fixed set: the label values stay
  // few).
  void RecordAuthFailure(absl::string_view code, absl::string_view method);
  // The tokens file was read again (FieldloopServer::ReloadAuthTokens): `ok` when its tokens
  // are in force now, false when it could not be read or parsed (the old ones stay).
  void RecordAuthReload(bool ok);

 private:
  class ScrapeView;  // The prometheus::Collectable computing scrape-time values.

  // Per initiative: what the apply lag is computed from.
  struct InitiativeLag {
    storage::SequenceNumber stored = 0;   // Last sequence number stored.
    storage::SequenceNumber applied = 0;  // Applied watermark.
    size_t live_themes = 0;
    bool themes_known = false;  // Set by RecordApplied; until then no themes series.
    // (last sequence of a stored batch, when it was stored), oldest first; only batches
    // with records not applied yet. Capped (kMaxMarks): beyond, the newest mark grows,
    // which can only overstate an age.
    std::deque<std::pair<storage::SequenceNumber, absl::Time>> marks;
  };
  static constexpr size_t kMaxMarks = 1024;
  static constexpr int kKinds = 6;     // KindLabel values; index 0 is "unknown".
  static constexpr int kStatuses = 3;  // accepted, duplicate, rejected.

  const storage::Store* const store_;
  const Clock* const clock_;
  std::shared_ptr<prometheus::Registry> registry_;
  std::shared_ptr<ScrapeView> scrape_view_;

  // Owned by registry_; set once in the constructor.
  prometheus::Counter* received_[kKinds] = {};
  prometheus::Counter* acked_[kKinds][kStatuses] = {};
  prometheus::Histogram* ack_latency_ = nullptr;
  prometheus::Counter* materializations_[2][2] = {};  // [trigger][ok]
  prometheus::Histogram* materialization_duration_ = nullptr;
  prometheus::Gauge* ingest_streams_open_ = nullptr;
  prometheus::Counter* streams_refused_[2] = {};  // [StreamRefusal]
  prometheus::Family<prometheus::Counter>* auth_failures_ = nullptr;
  prometheus::Counter* auth_reloads_[2] = {};  // [ok]

  mutable absl::Mutex mu_;
  std::map<std::string, InitiativeLag> lag_ ABSL_GUARDED_BY(mu_);

  mutable absl::Mutex serving_mu_;
  std::unique_ptr<prometheus::Exposer> exposer_ ABSL_GUARDED_BY(serving_mu_);
  std::string host_ ABSL_GUARDED_BY(serving_mu_);
  int port_ ABSL_GUARDED_BY(serving_mu_) = 0;
};

}  // namespace fieldloop::services

#endif  // FIELDLOOP_SERVICES_METRICS_H_
