// FieldloopServer: the fieldloopd process minus flag parsing. Opens the store, starts the
// Ingestor and the gRPC server (Ingest, Board, Themes, Admin, grpc.health.v1 health, server
// reflection).
#ifndef FIELDLOOP_SERVICES_SERVER_H_
#define FIELDLOOP_SERVICES_SERVER_H_

#include <cstddef>
#include <cstdio>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "grpcpp/grpcpp.h"
#include "services/admin_service.h"
#include "services/auth.h"
#include "services/backups.h"
#include "services/board_keeper.h"
#include "services/board_service.h"
#include "services/clock.h"
#include "services/event_log.h"
#include "services/forgetter.h"
#include "services/ingest_service.h"
#include "services/ingestor.h"
#include "services/materialize_schedule.h"
#include "services/metrics.h"
#include "services/tasks_webhook.h"
#include "services/theme_applier.h"
#include "services/theme_feed.h"
#include "services/themes_service.h"
#include "services/tls.h"
#include "storage/store.h"

namespace fieldloop::services {

struct ServerOptions {
  // host:port to listen on; port 0 picks a free one (see FieldloopServer::port()).
  // Default: 127.0.0.1:50551.
  std::string listen = "127.0.0.1:50551";
  // Directory of the RocksDB store; created when missing.
  // Default: ./data/fieldloop.
  std::string data_dir = "./data/fieldloop";
  // Sync the write-ahead log before acking (survives power loss, slower).
  // Default: false (acked records survive a crash of the process, not of the machine).
  bool sync_writes = false;
  // RocksDB's block cache, shared by every column family, holding data, index and filter
  // blocks (storage::StoreOptions::block_cache_bytes), in MiB. 1..65536.
  // Default: 64.
  int block_cache_mb = 64;
  // RocksDB's memtable budget (storage::StoreOptions::write_buffer_bytes), in MiB.
  // 16..65536.
  // Default: 128.
  int write_buffer_mb = 128;
  // Largest accepted record, in bytes (serialized IngestRequest).
  // Default: 64 KiB.
  size_t max_record_bytes = 64 * 1024;
  // Largest message gRPC receives on any call, in bytes. A larger one ends its call with
  // RESOURCE_EXHAUSTED (gRPC's own check, before any of it is kept); on an Ingest stream what
  // was acked before it stays stored. Records from max_record_bytes up to this get their own
  // TOO_LARGE rejection and the stream goes on. 0, or from max_record_bytes to 268435456
  // (InvalidArgument otherwise).
  // Default: 0 (max(4 x max_record_bytes, 4 MiB): 4 MiB with the default max_record_bytes).
  size_t max_message_bytes = 0;
  // Most Ingest.Stream calls open at once; one more ends at once with RESOURCE_EXHAUSTED
  // (IngestLimits::max_streams). 1..100000.
  // Default: 64.
  int max_streams = 64;
  // Most requests of one Ingest stream read and not yet acked; reading it pauses there
  // (IngestLimits::max_inflight_per_stream). 1..1048576.
  // Default: 4096.
  size_t max_inflight_per_stream = 4096;
  // An Ingest stream with no request read and no ack written for this long is ended with
  // UNAVAILABLE after its acks (IngestLimits::idle_timeout). ZeroDuration: never;
  // otherwise at least 1 ms, at most 24 h.
  // Default: 10 minutes.
  absl::Duration stream_idle_timeout = absl::Minutes(10);
  // Most Themes.WatchThemes calls open at once (each holds a gRPC server thread); one more
  // ends at once with RESOURCE_EXHAUSTED. 1..10000.
  // Default: 32.
  int max_watchers = 32;
  // Backpressure from theme state: while more than this many stored records (over every
  // initiative) are not applied to themes yet, each ingest write first waits, up to
  // apply_backlog_max_wait, for the applier to catch up; acks are delayed and the streams'
  // in-flight windows slow producers down (ThemeApplier::WaitForBacklogAtMost). Keeps
  // boards and the Themes API from trailing ingest without bound under saturation.
  // 0: off. Ignored without apply_themes.
  // Default: 100000.
  uint64_t max_apply_backlog = 100000;
  // Longest one ingest write waits for the backlog to shrink, so ingest goes on (slowly)
  // when the applier cannot catch up, e.g. while replaying at start. 1 ms to 10 min.
  // Default: 1 second.
  absl::Duration apply_backlog_max_wait = absl::Seconds(1);
  // gRPC keepalive: after this long without activity on a connection the server pings the
  // client, and closes the connection (cancelling its calls) when no answer comes within
  // keepalive_timeout; frees the streams of clients that vanished. Clients may themselves
  // ping as often as every 10 s, also without calls, without being disconnected. Each from
  // 1 s to 24 h (InvalidArgument otherwise).
  // Default: 1 minute and 20 seconds.
  absl::Duration keepalive_time = absl::Minutes(1);
  absl::Duration keepalive_timeout = absl::Seconds(20);
  // Keep theme state current (the theme applier). Off: an ingest-only server; records are
  // still stored and are applied when a server with it on starts on the same data.
  // Default: true.
  bool apply_themes = true;
  // Root directory of the outputs: boards and plans go to
  // <output_root>/specs/projects/<initiative>/sales/ (Board.Materialize, the schedule).
  // Default: ./out.
  std::string output_root = "./out";
  // Where Prometheus metrics are served over HTTP (GET /metrics, docs/operations.md): a bare
  // port or 127.0.0.1:PORT (127.0.0.1), localhost:PORT, [::1]:PORT. Loopback only: any other
  // host is refused (InvalidArgument) as the endpoint has no access control yet. Port 0
  // picks a free one (see metrics_port()).
  // Default: empty (no metrics: nothing counted, no port opened).
  std::string metrics_listen;
  // When boards are made on their own (--materialize_every, --materialize_weekly): each run
  // materializes the initiatives with records new since their last materialization.
  // Default: off (only on request). Needs apply_themes.
  ScheduleSpec schedule;
  // Where each materialization's new or changed tasks are POSTed as JSON (--tasks_webhook;
  // services/tasks_webhook.h, docs/formats.md). `tasks_webhook.url` must be an http or
  // https URL with a host (InvalidArgument otherwise).
  // Default: url empty (off).
  TasksWebhookOptions tasks_webhook;
  // Directory that Admin.Backup writes backups into, one new subdirectory per backup
  // (services/backups.h, docs/operations.md). Must be absolute and outside data_dir
  // (InvalidArgument otherwise); created when missing.
  // Default: empty (backups off: Admin.Backup returns FAILED_PRECONDITION).
  std::string backup_root;
  // TLS (services/tls.h): the server's certificate chain and key as PEM files, both or
  // neither, and optionally the CA that every client certificate must chain to (mutual
  // TLS). An unreadable file, a file without the PEM block expected, or a key without a
  // certificate stops Start (NotFound / InvalidArgument naming the flag).
  // Default: all empty (plaintext).
  ServerTlsFiles tls;
  // Tokens file (--auth_tokens; format and roles in services/auth.h): every call but
  // grpc.health.v1.Health and server reflection needs a bearer token of it, with a role and
  // initiatives that allow the call (UNAUTHENTICATED / PERMISSION_DENIED otherwise). A file
  // that cannot be read or parsed stops Start. Read again by
  // FieldloopServer::ReloadAuthTokens (fieldloopd: SIGHUP).
  // Default: empty (no access control: every caller may do everything).
  std::string auth_tokens;
  // Listen on an address other than loopback (127.0.0.0/8, localhost, [::1]) without both
  // TLS and auth_tokens. Default: false (Start refuses such an address, saying which of
  // the two is missing).
  bool allow_insecure = false;
  // Mask e-mail addresses and phone numbers in quotes and proof points on the board and in
  // the Themes API (pipeline/pii_redactor.h). Default: true.
  bool redact_pii = true;
  // Theme model parameters (normalization, clusterer). Default: fieldloop eval's.
  pipeline::ModelOptions model;
  // Clock for timestamp validation, today's date and the schedule; nullptr means the
  // system clock.
  const Clock* clock = nullptr;
  // Lowest level of event log lines written (--log_level; services/event_log.h,
  // docs/operations.md "Logs"). Default: info (no line per record).
  LogLevel log_level = LogLevel::kInfo;
  // Where the event log is written; not closed by the server, must outlive it.
  // Default: nullptr (stderr).
  FILE* log_file = nullptr;
  // The rocksdb::Env the store does its file I/O through (storage::StoreOptions::env); not
  // owned, must outlive the server. For tests (storage/fault_injection_fs.h) and embedding;
  // no flag. Default: nullptr (RocksDB's default Env).
  rocksdb::Env* store_env = nullptr;
};

// True for "localhost", "[::1]", "::1" and dotted quads in 127.0.0.0/8.
bool IsLoopbackHost(absl::string_view host);

class FieldloopServer {
 public:
  // Opens the store and starts serving. Returns the store's error when it cannot be opened,
  // InvalidArgument for a bad option, Unavailable when the address cannot be bound.
  static absl::StatusOr<std::unique_ptr<FieldloopServer>> Start(const ServerOptions& options);

  // Shuts down (see Shutdown).
  ~FieldloopServer();

  // The port the server listens on.
  int port() const { return port_; }
  // "127.0.0.1:<port>" style address for clients.
  std::string address() const;
  // The port metrics are served on; 0 when metrics are off (or after Shutdown).
  int metrics_port() const { return metrics_ != nullptr ? metrics_->port() : 0; }
  // "127.0.0.1:<port>" (or "[::1]:<port>") of the metrics endpoint; empty when off.
  std::string metrics_address() const {
    return metrics_ != nullptr ? metrics_->address() : std::string();
  }
  // The metrics; nullptr when off.
  ServerMetrics* metrics() { return metrics_.get(); }

  // Reads the tokens file (ServerOptions::auth_tokens) again. When it can be read and
  // parsed, its tokens replace the ones in force at once and atomically (Authorizer::
  // ReplaceTokens): calls already running go on, calls admitted from now on and the
  // further records of open Ingest streams are checked against the new tokens; logs an
  // INFO line with the number of tokens and the names added, removed and changed, and
  // returns OK. Otherwise the tokens in force stay, an ERROR line gives the reason, and
  // the error is returned: NotFound / PermissionDenied naming the file when it cannot be
  // read, InvalidArgument naming the file and the line as ParseTokens does. Neither line
  // holds a token or a hash. Either outcome counts in fieldloop_auth_reloads_total.
  // FailedPrecondition, logged at WARNING, when the server runs without a tokens file
  // (access control is not turned on by a reload). Thread-safe; reloads run one at a time.
  absl::Status ReloadAuthTokens() ABSL_LOCKS_EXCLUDED(reload_mu_);

  // Clean shutdown: refuses new streams, lets open streams ack what they have read and end
  // with UNAVAILABLE, waits up to `grace` for them, writes what is queued. The store is
  // closed by the destructor. Idempotent.
  void Shutdown(absl::Duration grace = absl::Seconds(5));

  const Ingestor& ingestor() const { return *ingestor_; }
  ThemeApplier& applier() { return *applier_; }
  // The event log every part of the server writes to.
  EventLog& log() { return *log_; }
  BoardKeeper& board_keeper() { return *board_keeper_; }
  // The schedule's thread; nullptr when the schedule is off.
  MaterializeScheduler* scheduler() { return scheduler_.get(); }
  // The tasks webhook's sender; nullptr when --tasks_webhook is off.
  TasksWebhook* tasks_webhook() { return tasks_webhook_.get(); }

 private:
  FieldloopServer() = default;

  ServerOptions options_;
  SystemClock system_clock_;
  // Before everything that logs, so it is destroyed after them.
  std::unique_ptr<EventLog> log_;
  std::unique_ptr<storage::Store> store_;
  // After the store (its scrapes read it), before what counts into it.
  std::unique_ptr<ServerMetrics> metrics_;
  // After the metrics and the log it writes to, before the services that ask it.
  std::unique_ptr<Authorizer> authorizer_;
  absl::Mutex reload_mu_;  // Held by ReloadAuthTokens: one reload at a time, in order.
  ThemeFeed theme_feed_;   // Before the applier, which publishes to it.
  std::unique_ptr<ThemeApplier> applier_;
  std::unique_ptr<Ingestor> ingestor_;
  std::unique_ptr<IngestService> ingest_service_;
  std::unique_ptr<BoardKeeper> board_keeper_;
  std::unique_ptr<TasksWebhook> tasks_webhook_;  // Marks deliveries through board_keeper_.
  std::unique_ptr<BoardService> board_service_;
  std::unique_ptr<ThemesService> themes_service_;
  std::unique_ptr<Forgetter> forgetter_;  // Rebuilds theme state through applier_.
  std::unique_ptr<Backups> backups_;
  std::unique_ptr<AdminService> admin_service_;
  std::unique_ptr<MaterializeScheduler> scheduler_;
  std::unique_ptr<grpc::Server> server_;
  std::string host_;
  int port_ = 0;
  bool shut_down_ = false;
  bool started_ = false;  // Start succeeded: Shutdown logs the summary.
};

}  // namespace fieldloop::services

#endif  // FIELDLOOP_SERVICES_SERVER_H_
