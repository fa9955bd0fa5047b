// fieldloopd: the fieldloop server. See docs/operations.md.
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <tuple>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "services/server.h"

ABSL_FLAG(
    std::string, listen, "127.0.0.1:50551",
    "host:port for gRPC (Ingest, Board, health, reflection). Port 0 picks a free port, printed "
    "on the 'listening on' line.");
ABSL_FLAG(std::string, data_dir, "./data/fieldloop",
          "Directory of the RocksDB store; created when missing.");
ABSL_FLAG(bool, sync_writes, false,
          "fsync the write-ahead log before acking: acked records then survive power loss, not "
          "only a crash of the server. Group commit shares one fsync among concurrent records.");
ABSL_FLAG(bool, apply_themes, true,
          "Keep theme state current as records arrive. false: ingest only (records are applied "
          "when a server with it on starts on the same data directory).");
ABSL_FLAG(size_t, max_record_bytes, 64 * 1024,
          "Largest accepted record (serialized IngestRequest) in bytes; larger ones are "
          "rejected with TOO_LARGE. 256..67108864.");
ABSL_FLAG(size_t, max_message_bytes, 0,
          "Largest gRPC message received on any call, in bytes; a larger one ends its call with "
          "RESOURCE_EXHAUSTED (on an Ingest stream, what was acked before stays stored). 0: "
          "max(4 x --max_record_bytes, 4 MiB). Otherwise --max_record_bytes..268435456.");
ABSL_FLAG(int, max_streams, 64,
          "Most Ingest.Stream calls open at once; one more is ended at once with "
          "RESOURCE_EXHAUSTED (retry with backoff). 1..100000.");
ABSL_FLAG(size_t, max_inflight_per_stream, 4096,
          "Flow control: most requests of one Ingest stream read and not yet acked; reading "
          "that stream pauses there until its client reads acks, so a fast producer cannot grow "
          "server memory. 1..1048576.");
ABSL_FLAG(std::string, stream_idle_timeout, "10m",
          "End an Ingest stream that read no request and wrote no ack for this long "
          "(UNAVAILABLE \"stream idle for ...\", after acking what it read); an absl duration "
          "such as 30s, 10m. 0: never.");
ABSL_FLAG(int, block_cache_mb, 64,
          "RocksDB's block cache in MiB, shared by every column family: data blocks and the "
          "index and filter blocks of the table files. 1..65536.");
ABSL_FLAG(int, write_buffer_mb, 128,
          "RocksDB's memtable budget in MiB: each column family's memtable is a share of it, "
          "and all of them together stay under 1.32 times it. 16..65536.");
ABSL_FLAG(int, max_watchers, 32,
          "Most Themes.WatchThemes calls open at once (each holds a server thread); one more is "
          "ended at once with RESOURCE_EXHAUSTED. 1..10000.");
ABSL_FLAG(uint64_t, max_apply_backlog, 100000,
          "Backpressure from theme state: while more stored records than this are not applied "
          "to themes yet, each ingest write waits (up to --apply_backlog_max_wait) for the "
          "applier, which slows producers through their acks. 0: off.");
ABSL_FLAG(std::string, apply_backlog_max_wait, "1s",
          "Longest one ingest write waits for the theme backlog to shrink (then it goes on). "
          "1ms..10m.");
ABSL_FLAG(std::string, keepalive_time, "1m",
          "Ping a client connection after this long without activity (gRPC keepalive); with "
          "--keepalive_timeout frees the calls of clients that vanished. Clients may ping every "
          "10s or more, with or without calls. 1s..24h.");
ABSL_FLAG(std::string, keepalive_timeout, "20s",
          "Close a connection (cancelling its calls) whose keepalive ping is not answered within "
          "this long. 1s..24h.");

ABSL_FLAG(std::string, output_root, "./out",
          "Root of the outputs: boards and plans are written to <output_root>/specs/projects/"
          "<initiative>/sales/ (Board.Materialize and the schedule).");
ABSL_FLAG(std::string, materialize_every, "",
          "Materialize every initiative with new records at this period, aligned to the Unix "
          "epoch (\"1h\" runs on the hour, \"24h\" at 00:00 UTC); at least 1m. Empty: off.");
ABSL_FLAG(std::string, materialize_weekly, "",
          "Materialize every initiative with new records once a week at <weekday>@<hour> UTC, "
          "e.g. mon@06. Combines with --materialize_every. Empty: off.");
ABSL_FLAG(std::string, tasks_webhook, "",
          "After each materialization, POST the refresh-plan tasks that are new or changed since "
          "their last delivery, as JSON (docs/formats.md), to this http:// or https:// URL; "
          "retried with backoff in the background, never holding up ingest or Board calls. "
          "Empty: off.");
ABSL_FLAG(std::string, metrics_listen, "",
          "Serve Prometheus metrics at http://HOST:PORT/metrics: a bare port or "
          "127.0.0.1:PORT, localhost:PORT, [::1]:PORT. Loopback only (no access control yet); "
          "other hosts are refused. Port 0 picks a free port, printed at start. Empty: off.");
ABSL_FLAG(std::string, log_level, "info",
          "Lowest level of the event log lines written to stderr: debug, info, warning or error. "
          "info: one line per notable event (start, stop, replay, each ingest stream, each "
          "materialization, failures), never one per record; debug adds per-batch lines.");
ABSL_FLAG(std::string, backup_root, "",
          "Allow online backups (Admin.Backup, `fieldloop backup --server`): each one is a "
          "RocksDB checkpoint written into a new directory DIR/<name>. An absolute directory "
          "outside --data_dir; created when missing. Empty: backups off (FAILED_PRECONDITION).");
ABSL_FLAG(std::string, tls_cert, "",
          "TLS: PEM file of the server's certificate chain (leaf first), with --tls_key. Empty: "
          "plaintext gRPC.");
ABSL_FLAG(std::string, tls_key, "",
          "TLS: PEM file of the private key of --tls_cert (unencrypted; keep it readable by "
          "fieldloopd only).");
ABSL_FLAG(std::string, tls_client_ca, "",
          "Mutual TLS: PEM file of the CA certificates every client certificate must chain to; "
          "a client without such a certificate fails the handshake. Needs --tls_cert.");
ABSL_FLAG(std::string, auth_tokens, "",
          "Access tokens file: one line per token, '<sha256-hex> <name> "
          "<producer|reader|admin> <initiative,...|*>' (hash: printf %s \"$TOKEN\" | "
          "sha256sum). Every call but health and reflection then needs 'authorization: Bearer "
          "<token>' (UNAUTHENTICATED / PERMISSION_DENIED). Read again on SIGHUP (kill -HUP "
          "<pid>): tokens added, removed or changed take effect without a restart. Empty: no "
          "access control.");
ABSL_FLAG(bool, allow_insecure, false,
          "Listen on a --listen address that is not loopback without both TLS (--tls_cert) and "
          "access tokens (--auth_tokens). Without it such an address is refused at start.");
ABSL_FLAG(bool, redact_pii, true,
          "Mask e-mail addresses and phone numbers in quotes and proof points on the board and "
          "in the Themes API ([email], [phone]). --redact_pii=false shows them as recorded.");

namespace {

int signal_pipe[2];

// The value of duration flag `name` ("10m", "20s", "0"), or an error naming the flag.
absl::StatusOr<absl::Duration> ParseDurationFlag(const char* name, const std::string& value) {
  absl::Duration d;
  if (!absl::ParseDuration(value, &d)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--", name, ": '", value, "' is not a duration (a number with a unit, e.g. 30s, 10m, 2h)"));
  }
  return d;
}

// What a signal asks of the main loop, as the byte the handler writes to signal_pipe.
constexpr char kStop = 'S';    // SIGINT, SIGTERM.
constexpr char kReload = 'R';  // SIGHUP: read --auth_tokens again.

// Async-signal-safe: only write(2). The main loop acts on the byte.
void OnSignal(int signal) {
  const char c = signal == SIGHUP ? kReload : kStop;
  (void)!write(signal_pipe[1], &c, 1);
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "fieldloopd: receives rep feedback, transcripts, win/loss notes, content inventory and "
      "onboarding metrics over gRPC (fieldloop.v1.Ingest) into a RocksDB store, keeps themes "
      "current, and writes enablement boards and refresh plans (fieldloop.v1.Board, or on a "
      "schedule).\n"
      "Usage: fieldloopd [--listen=HOST:PORT] [--data_dir=DIR] [--sync_writes] "
      "[--max_record_bytes=N] [--max_message_bytes=N] [--max_streams=N] "
      "[--max_inflight_per_stream=N] [--stream_idle_timeout=DURATION] [--max_watchers=N] "
      "[--keepalive_time=DURATION] [--keepalive_timeout=DURATION] [--max_apply_backlog=N] "
      "[--apply_backlog_max_wait=DURATION] [--block_cache_mb=N] [--write_buffer_mb=N] "
      "[--apply_themes=false] "
      "[--output_root=DIR] "
      "[--materialize_every=DURATION] [--materialize_weekly=DAY@HOUR] [--tasks_webhook=URL] "
      "[--log_level=debug|info|warning|error] "
      "[--metrics_listen=[HOST:]PORT] [--backup_root=DIR] [--redact_pii=false] "
      "[--tls_cert=PEM --tls_key=PEM [--tls_client_ca=PEM]] [--auth_tokens=FILE] "
      "[--allow_insecure]\nStops cleanly on SIGINT or SIGTERM. On SIGHUP reads the "
      "--auth_tokens file again and puts its tokens in force without a restart (a file that "
      "cannot be read or parsed is logged and the old tokens stay). "
      "Flags and data layout: docs/operations.md.");
  absl::ParseCommandLine(argc, argv);

  fieldloop::services::ServerOptions options;
  options.listen = absl::GetFlag(FLAGS_listen);
  options.data_dir = absl::GetFlag(FLAGS_data_dir);
  options.sync_writes = absl::GetFlag(FLAGS_sync_writes);
  options.max_record_bytes = absl::GetFlag(FLAGS_max_record_bytes);
  options.max_message_bytes = absl::GetFlag(FLAGS_max_message_bytes);
  options.max_streams = absl::GetFlag(FLAGS_max_streams);
  options.max_inflight_per_stream = absl::GetFlag(FLAGS_max_inflight_per_stream);
  options.max_watchers = absl::GetFlag(FLAGS_max_watchers);
  options.block_cache_mb = absl::GetFlag(FLAGS_block_cache_mb);
  options.write_buffer_mb = absl::GetFlag(FLAGS_write_buffer_mb);
  options.max_apply_backlog = absl::GetFlag(FLAGS_max_apply_backlog);
  for (auto [name, flag, field] :
       {std::make_tuple("stream_idle_timeout", &FLAGS_stream_idle_timeout,
                        &options.stream_idle_timeout),
        std::make_tuple("keepalive_time", &FLAGS_keepalive_time, &options.keepalive_time),
        std::make_tuple("apply_backlog_max_wait", &FLAGS_apply_backlog_max_wait,
                        &options.apply_backlog_max_wait),
        std::make_tuple("keepalive_timeout", &FLAGS_keepalive_timeout,
                        &options.keepalive_timeout)}) {
    absl::StatusOr<absl::Duration> d = ParseDurationFlag(name, absl::GetFlag(*flag));
    if (!d.ok()) {
      std::fprintf(stderr, "fieldloopd: %s\n", std::string(d.status().message()).c_str());
      return 1;
    }
    *field = *d;
  }
  options.apply_themes = absl::GetFlag(FLAGS_apply_themes);
  options.output_root = absl::GetFlag(FLAGS_output_root);
  options.tasks_webhook.url = absl::GetFlag(FLAGS_tasks_webhook);
  options.metrics_listen = absl::GetFlag(FLAGS_metrics_listen);
  options.backup_root = absl::GetFlag(FLAGS_backup_root);
  options.redact_pii = absl::GetFlag(FLAGS_redact_pii);
  options.allow_insecure = absl::GetFlag(FLAGS_allow_insecure);
  options.tls.cert = absl::GetFlag(FLAGS_tls_cert);
  options.tls.key = absl::GetFlag(FLAGS_tls_key);
  options.tls.client_ca = absl::GetFlag(FLAGS_tls_client_ca);
  options.auth_tokens = absl::GetFlag(FLAGS_auth_tokens);
  absl::StatusOr<fieldloop::services::LogLevel> log_level =
      fieldloop::services::ParseLogLevel(absl::GetFlag(FLAGS_log_level));
  if (!log_level.ok()) {
    std::fprintf(stderr, "fieldloopd: %s\n", std::string(log_level.status().message()).c_str());
    return 1;
  }
  options.log_level = *log_level;
  absl::StatusOr<absl::Duration> every =
      fieldloop::services::ParseEvery(absl::GetFlag(FLAGS_materialize_every));
  absl::Status weekly =
      fieldloop::services::ParseWeekly(absl::GetFlag(FLAGS_materialize_weekly), &options.schedule);
  if (!every.ok() || !weekly.ok()) {
    std::fprintf(stderr, "fieldloopd: %s\n",
                 std::string((every.ok() ? weekly : every.status()).message()).c_str());
    return 1;
  }
  options.schedule.every = *every;

  if (pipe(signal_pipe) != 0) {
    std::perror("fieldloopd: pipe");
    return 1;
  }
  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);
  // Handled from here on, so that SIGHUP never ends the process (its default action): one
  // that comes while starting is acted on once the server is up.
  std::signal(SIGHUP, OnSignal);
  std::signal(SIGPIPE, SIG_IGN);

  auto server = fieldloop::services::FieldloopServer::Start(options);
  if (!server.ok()) {
    std::fprintf(stderr, "fieldloopd: %s\n", std::string(server.status().message()).c_str());
    return 1;
  }
  std::printf("fieldloopd: listening on %s (data_dir=%s, sync_writes=%s)\n",
              (*server)->address().c_str(), options.data_dir.c_str(),
              options.sync_writes ? "true" : "false");
  if (!(*server)->metrics_address().empty()) {
    std::printf("fieldloopd: metrics on http://%s/metrics\n", (*server)->metrics_address().c_str());
  }
  std::fflush(stdout);

  while (true) {
    char c;
    const ssize_t n = read(signal_pipe[0], &c, 1);
    if (n < 0 && errno == EINTR) continue;
    if (n != 1 || c != kReload) break;
    // Logs its outcome (tokens in force, or why the old ones stay); the server goes on
    // either way.
    (void)(*server)->ReloadAuthTokens();
  }
  // Shutdown logs "shutting down" and, once stopped, the counts of this run.
  (*server)->Shutdown();
  return 0;
}
