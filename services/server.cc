#include "services/server.h"

#include <unistd.h>

#include <algorithm>
#include <optional>
#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/health_check_service_interface.h"
#include "services/heap_stats.h"
#include "services/tls.h"

namespace fieldloop::services {
namespace {

// The schedule as the start line shows it: "every 1h", "weekly mon@06", both, or "off".
std::string DescribeSchedule(const ScheduleSpec& spec) {
  static constexpr const char* kDays[] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};
  std::vector<std::string> parts;
  if (spec.every > absl::ZeroDuration()) {
    parts.push_back(absl::StrCat("every ", absl::FormatDuration(spec.every)));
  }
  if (spec.weekday.has_value()) {
    parts.push_back(
        absl::StrFormat("weekly %s@%02d UTC", kDays[static_cast<int>(*spec.weekday)], spec.hour));
  }
  return parts.empty() ? "off" : absl::StrJoin(parts, ", ");
}

// `names` joined with ", ": at most 10, then "and N more".
std::string JoinCapped(const std::vector<std::string>& names) {
  constexpr size_t kMax = 10;
  if (names.size() <= kMax) return absl::StrJoin(names, ", ");
  return absl::StrCat(absl::StrJoin(names.begin(), names.begin() + kMax, ", "), " and ",
                      names.size() - kMax, " more");
}

// The gRPC receive limit: max_message_bytes, or by default max(4 x max_record_bytes, 4 MiB).
size_t MaxMessageBytes(const ServerOptions& options) {
  if (options.max_message_bytes != 0) return options.max_message_bytes;
  return std::max<size_t>(4 * options.max_record_bytes, 4u << 20);
}

// InvalidArgument naming the flag unless `d` is within [min, max].
absl::Status CheckDuration(absl::string_view flag, absl::Duration d, absl::Duration min,
                           absl::Duration max) {
  if (d >= min && d <= max) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat("--", flag, "=", absl::FormatDuration(d),
                                                 " must be from ", absl::FormatDuration(min),
                                                 " to ", absl::FormatDuration(max)));
}

// The limits and keepalive options, each against its documented range (server.h).
absl::Status CheckLimits(const ServerOptions& options) {
  constexpr size_t kMaxMessageBytes = 256u << 20;
  if (options.max_message_bytes != 0 && (options.max_message_bytes < options.max_record_bytes ||
                                         options.max_message_bytes > kMaxMessageBytes)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--max_message_bytes=", options.max_message_bytes, " must be 0 (automatic) or from ",
        "--max_record_bytes (", options.max_record_bytes, ") to ", kMaxMessageBytes));
  }
  if (options.block_cache_mb < 1 || options.block_cache_mb > 65536) {
    return absl::InvalidArgumentError(
        absl::StrCat("--block_cache_mb=", options.block_cache_mb, " must be from 1 to 65536"));
  }
  if (options.write_buffer_mb < 16 || options.write_buffer_mb > 65536) {
    return absl::InvalidArgumentError(
        absl::StrCat("--write_buffer_mb=", options.write_buffer_mb, " must be from 16 to 65536"));
  }
  if (options.max_streams < 1 || options.max_streams > 100000) {
    return absl::InvalidArgumentError(
        absl::StrCat("--max_streams=", options.max_streams, " must be from 1 to 100000"));
  }
  if (options.max_inflight_per_stream < 1 || options.max_inflight_per_stream > (1u << 20)) {
    return absl::InvalidArgumentError(
        absl::StrCat("--max_inflight_per_stream=", options.max_inflight_per_stream,
                     " must be from 1 to 1048576"));
  }
  if (options.stream_idle_timeout != absl::ZeroDuration()) {
    if (absl::Status s = CheckDuration("stream_idle_timeout", options.stream_idle_timeout,
                                       absl::Milliseconds(1), absl::Hours(24));
        !s.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(s.message(), ", or 0 (off)"));
    }
  }
  if (options.max_watchers < 1 || options.max_watchers > 10000) {
    return absl::InvalidArgumentError(
        absl::StrCat("--max_watchers=", options.max_watchers, " must be from 1 to 10000"));
  }
  if (absl::Status s = CheckDuration("apply_backlog_max_wait", options.apply_backlog_max_wait,
                                     absl::Milliseconds(1), absl::Minutes(10));
      !s.ok()) {
    return s;
  }
  if (absl::Status s = CheckDuration("keepalive_time", options.keepalive_time, absl::Seconds(1),
                                     absl::Hours(24));
      !s.ok()) {
    return s;
  }
  return CheckDuration("keepalive_timeout", options.keepalive_timeout, absl::Seconds(1),
                       absl::Hours(24));
}

}  // namespace

bool IsLoopbackHost(absl::string_view host) {
  if (host == "localhost" || host == "[::1]" || host == "::1") return true;
  // 127.0.0.0/8, written as a dotted quad.
  std::vector<absl::string_view> parts = absl::StrSplit(host, '.');
  int first = 0;
  return parts.size() == 4 && absl::SimpleAtoi(parts[0], &first) && first == 127;
}

absl::StatusOr<std::unique_ptr<FieldloopServer>> FieldloopServer::Start(
    const ServerOptions& options) {
  if (options.max_record_bytes < 256 || options.max_record_bytes > (64u << 20)) {
    return absl::InvalidArgumentError(absl::StrCat("--max_record_bytes=", options.max_record_bytes,
                                                   " must be from 256 to 67108864"));
  }
  if (absl::Status s = CheckLimits(options); !s.ok()) return s;
  const size_t colon = options.listen.rfind(':');
  if (colon == std::string::npos || colon == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("--listen='", options.listen, "' must be host:port, e.g. 127.0.0.1:50551"));
  }
  // Read before anything is opened, so a bad file stops the start with its own message.
  std::shared_ptr<grpc::ServerCredentials> credentials = grpc::InsecureServerCredentials();
  if (options.tls.enabled()) {
    auto tls = ServerTlsCredentials(options.tls);
    if (!tls.ok()) return tls.status();
    credentials = *std::move(tls);
  }
  std::optional<TokenTable> tokens;
  if (!options.auth_tokens.empty()) {
    auto table = ReadTokensFile(options.auth_tokens);
    if (!table.ok()) return table.status();
    tokens = *std::move(table);
  }
  // Off this machine, a caller must be told who it is (tokens) over a channel nobody can
  // read (TLS): without tokens anyone reaching the port may read and change everything,
  // without TLS the tokens travel in clear text for anyone on the path to copy.
  if (const std::string host = options.listen.substr(0, colon);
      !IsLoopbackHost(host) && !options.allow_insecure &&
      !(options.tls.enabled() && tokens.has_value())) {
    const char* why =
        options.tls.enabled() ? "no access tokens (--auth_tokens), so anyone reaching that "
                                "address could read and change every initiative"
        : tokens.has_value()
            ? "no TLS (--tls_cert, --tls_key), so the access tokens would travel in clear "
              "text and anyone on the network path could copy and reuse them"
            : "no TLS (--tls_cert, --tls_key) and no access tokens (--auth_tokens), so anyone "
              "reaching that address could read and change every initiative";
    return absl::InvalidArgumentError(absl::StrCat(
        "--listen='", options.listen, "' is not a loopback address and fieldloopd has ", why,
        ". Configure both TLS and tokens, listen on 127.0.0.1 (behind a proxy that "
        "authenticates), or pass --allow_insecure to listen there anyway"));
  }
  if (options.schedule.enabled() && !options.apply_themes) {
    return absl::InvalidArgumentError(
        "--materialize_every and --materialize_weekly need --apply_themes");
  }
  if (!options.tasks_webhook.url.empty()) {
    if (auto url = CheckWebhookUrl(options.tasks_webhook.url); !url.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("--tasks_webhook: ", url.status().message()));
    }
  }
  const bool metrics_on = !options.metrics_listen.empty();
  if (metrics_on) {
    if (auto endpoint = ParseMetricsListen(options.metrics_listen); !endpoint.ok()) {
      return endpoint.status();
    }
  }
  std::unique_ptr<FieldloopServer> server(new FieldloopServer());
  server->options_ = options;
  server->log_ =
      std::make_unique<EventLog>(options.clock != nullptr ? options.clock : &server->system_clock_,
                                 options.log_level, options.log_file);
  EventLog* const log = server->log_.get();
  server->host_ = options.listen.substr(0, colon);
  storage::StoreOptions store_options;
  store_options.sync_writes = options.sync_writes;
  store_options.collect_statistics = metrics_on;  // Write stall time.
  store_options.env = options.store_env;
  store_options.block_cache_bytes = static_cast<size_t>(options.block_cache_mb) << 20;
  store_options.write_buffer_bytes = static_cast<size_t>(options.write_buffer_mb) << 20;
  auto store = storage::Store::Open(options.data_dir, store_options);
  if (!store.ok()) return store.status();
  server->store_ = std::move(*store);
  auto backups = Backups::AtRoot(options.backup_root, server->store_.get());
  if (!backups.ok()) return backups.status();
  server->backups_ = std::move(*backups);
  if (metrics_on) {
    server->metrics_ = std::make_unique<ServerMetrics>(
        server->store_.get(), options.clock != nullptr ? options.clock : &server->system_clock_);
    if (absl::Status s = server->metrics_->Listen(options.metrics_listen); !s.ok()) return s;
  }

  ApplierOptions applier_options;
  applier_options.model = options.model;
  applier_options.feed = &server->theme_feed_;
  applier_options.metrics = server->metrics_.get();
  applier_options.log = log;
  server->applier_ = std::make_unique<ThemeApplier>(server->store_.get(), applier_options);
  if (options.apply_themes) {
    if (absl::Status s = server->applier_->Start(); !s.ok()) return s;
  }
  server->forgetter_ =
      std::make_unique<Forgetter>(server->store_.get(), server->applier_.get(), log);
  server->authorizer_ = tokens.has_value() ? std::make_unique<Authorizer>(
                                                 *std::move(tokens), server->metrics_.get(), log)
                                           : std::make_unique<Authorizer>();
  const Authorizer* const authorizer = server->authorizer_.get();
  server->admin_service_ =
      std::make_unique<AdminService>(server->backups_.get(), authorizer, server->forgetter_.get());

  IngestorOptions ingestor_options;
  ingestor_options.limits.max_record_bytes = options.max_record_bytes;
  ingestor_options.metrics = server->metrics_.get();
  ingestor_options.log = log;
  ThemeApplier* applier = server->applier_.get();
  if (options.apply_themes) ingestor_options.on_commit = [applier] { applier->Notify(); };
  if (options.apply_themes && options.max_apply_backlog > 0) {
    ingestor_options.before_commit = [applier, max = options.max_apply_backlog,
                                      wait = options.apply_backlog_max_wait] {
      applier->WaitForBacklogAtMost(max, wait);
    };
  }
  const Clock* clock = options.clock != nullptr ? options.clock : &server->system_clock_;
  server->ingestor_ = std::make_unique<Ingestor>(server->store_.get(), clock, ingestor_options);
  IngestLimits ingest_limits;
  ingest_limits.max_streams = options.max_streams;
  ingest_limits.max_inflight_per_stream = options.max_inflight_per_stream;
  ingest_limits.idle_timeout = options.stream_idle_timeout;
  server->ingest_service_ =
      std::make_unique<IngestService>(server->ingestor_.get(), server->applier_.get(), log,
                                      ingest_limits, server->metrics_.get(), authorizer);

  BoardKeeperOptions board_options;
  board_options.output_root = options.output_root;
  if (!options.tasks_webhook.url.empty()) {
    // Deliveries are marked through the keeper, serialized with the materializations that
    // read and write the same task records.
    FieldloopServer* raw = server.get();
    TasksWebhookOptions webhook_options = options.tasks_webhook;
    webhook_options.log = log;
    auto webhook = TasksWebhook::Start(
        std::move(webhook_options),
        [raw](const std::string& initiative, const std::map<std::string, std::string>& delivered) {
          return raw->board_keeper_->MarkDelivered(initiative, delivered);
        });
    if (!webhook.ok()) return webhook.status();
    server->tasks_webhook_ = std::move(*webhook);
    board_options.plan_observer = server->tasks_webhook_.get();
  }
  board_options.metrics = server->metrics_.get();
  board_options.log = log;
  board_options.redact_pii = options.redact_pii;
  server->board_keeper_ =
      std::make_unique<BoardKeeper>(server->store_.get(), server->applier_.get(), board_options);
  server->board_service_ =
      std::make_unique<BoardService>(server->board_keeper_.get(), clock, authorizer);
  server->themes_service_ =
      std::make_unique<ThemesService>(server->store_.get(), server->applier_.get(),
                                      &server->theme_feed_, clock, options.redact_pii, authorizer);
  server->themes_service_->LimitWatchers(options.max_watchers, server->metrics_.get());

  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  // grpc.health.v1.Health (and reflection) are not behind tokens: probes need no secret.
  builder.AddListeningPort(options.listen, credentials, &server->port_);
  // Records over --max_record_bytes get their own rejection; only messages beyond this
  // transport limit end the stream (RESOURCE_EXHAUSTED).
  builder.SetMaxReceiveMessageSize(static_cast<int>(MaxMessageBytes(options)));
  // Keepalive: ping idle connections, drop those that do not answer. Clients may ping every
  // 10 s, with or without calls, before pings count as strikes (2 strikes: GOAWAY).
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIME_MS,
                             static_cast<int>(absl::ToInt64Milliseconds(options.keepalive_time)));
  builder.AddChannelArgument(
      GRPC_ARG_KEEPALIVE_TIMEOUT_MS,
      static_cast<int>(absl::ToInt64Milliseconds(options.keepalive_timeout)));
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS, 10000);
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MAX_PING_STRIKES, 2);
  builder.RegisterService(server->ingest_service_.get());
  builder.RegisterService(server->board_service_.get());
  builder.RegisterService(server->themes_service_.get());
  builder.RegisterService(server->admin_service_.get());
  server->server_ = builder.BuildAndStart();
  if (server->server_ == nullptr || server->port_ == 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", options.listen, " (address in use or not local?)"));
  }
  // Health follows the store's write health: NOT_SERVING while it cannot write (disk full,
  // I/O error), SERVING again once it recovers; Shutdown ends this before it sets NOT_SERVING.
  server->store_->SetWriteHealthObserver([health = server->server_->GetHealthCheckService(), log,
                                          failing = false,
                                          since = absl::Now()](const absl::Status& status) mutable {
    health->SetServingStatus(status.ok());
    if (!status.ok() && !failing) {
      log->Error("store",
                 "the store cannot write: %s; records are acked REJECTED (UNAVAILABLE) and "
                 "health is NOT_SERVING until it can, retried every 0.2-1 s",
                 status.message());
      since = absl::Now();
    } else if (status.ok() && failing) {
      log->Info("store", "the store writes again after %.1fs; health SERVING",
                absl::ToDoubleSeconds(absl::Now() - since));
    }
    failing = !status.ok();
  });
  if (options.schedule.enabled()) {
    BoardKeeper* keeper = server->board_keeper_.get();
    server->scheduler_ = std::make_unique<MaterializeScheduler>(
        options.schedule, clock, [keeper, log](absl::Time due) {
          const absl::Time start = absl::Now();
          const absl::CivilDay as_of = absl::ToCivilDay(due, absl::UTCTimeZone());
          std::map<std::string, absl::Status> errors;
          const std::vector<std::string> done = keeper->MaterializeChanged(as_of, &errors);
          // Each materialization has its own line (and each failure its reason) from the
          // keeper; this is the run's summary. A run with nothing new is DEBUG only.
          const std::string when = absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", due, absl::UTCTimeZone());
          if (done.empty() && errors.empty()) {
            log->Debug("schedule", "run due %s: no initiative has new records", when);
            return;
          }
          std::string line = absl::StrFormat("run due %s (as of %s): %d materialized", when,
                                             absl::FormatCivilTime(as_of), done.size());
          if (!done.empty()) absl::StrAppend(&line, " (", JoinCapped(done), ")");
          if (!errors.empty()) {
            std::vector<std::string> failed;
            for (const auto& [initiative, error] : errors) failed.push_back(initiative);
            absl::StrAppend(&line, ", ", failed.size(), " failed (", JoinCapped(failed), ")");
          }
          absl::StrAppend(&line,
                          absl::StrFormat(" in %.3fs", absl::ToDoubleSeconds(absl::Now() - start)));
          log->Write(errors.empty() ? LogLevel::kInfo : LogLevel::kWarning, "schedule", line);
        });
    server->scheduler_->Start();
  }
  // No "listening on" here: fieldloopd prints that line on stdout, and tools take the
  // address from the first line holding those words.
  log->Info("fieldloopd",
            "started: pid %d, gRPC on %s, data_dir %s (schema %d), output_root %s, "
            "sync_writes=%s, apply_themes=%s, max_record_bytes=%d, schedule %s, "
            "tasks_webhook %s, metrics %s, log_level %s, tls %s, auth_tokens %s, "
            "block_cache_mb %d, write_buffer_mb %d, allocator %s",
            static_cast<int>(getpid()), server->address(), options.data_dir,
            server->store_->schema_version(), options.output_root,
            options.sync_writes ? "true" : "false", options.apply_themes ? "true" : "false",
            options.max_record_bytes, DescribeSchedule(options.schedule),
            server->tasks_webhook_ != nullptr ? server->tasks_webhook_->display_url() : "off",
            server->metrics_ != nullptr
                ? absl::StrCat("http://", server->metrics_->address(), "/metrics")
                : std::string("off"),
            absl::AsciiStrToLower(LogLevelName(options.log_level)),
            !options.tls.enabled()          ? "off"
            : options.tls.client_ca.empty() ? "on"
                                            : "on (client certificates required)",
            server->authorizer_->enabled() ? absl::StrCat(options.auth_tokens) : "off",
            options.block_cache_mb, options.write_buffer_mb, AllocatorName());
  server->started_ = true;
  return server;
}

FieldloopServer::~FieldloopServer() { Shutdown(); }

absl::Status FieldloopServer::ReloadAuthTokens() {
  absl::MutexLock lock(&reload_mu_);
  if (!authorizer_->enabled()) {
    constexpr absl::string_view kNothing =
        "no tokens file (--auth_tokens) to reload: access control is off, and a reload does "
        "not turn it on (restart with --auth_tokens for that)";
    log_->Warning("auth", "%s", kNothing);
    return absl::FailedPreconditionError(kNothing);
  }
  // ReadTokensFile's errors name the file and, for a malformed line, the line and field;
  // never a hash (nor what stands where a hash belongs).
  absl::StatusOr<TokenTable> tokens = ReadTokensFile(options_.auth_tokens);
  absl::StatusOr<TokenChanges> changes =
      tokens.ok() ? authorizer_->ReplaceTokens(*std::move(tokens)) : tokens.status();
  if (metrics_ != nullptr) metrics_->RecordAuthReload(changes.ok());
  if (!changes.ok()) {
    log_->Error("auth", "reloading the tokens failed, the %d tokens in force stay: %s",
                authorizer_->token_count(), changes.status().message());
    return changes.status();
  }
  // "2 added (a, b)", "0 removed".
  auto names = [](absl::string_view what, const std::vector<std::string>& list) {
    return list.empty() ? absl::StrCat("0 ", what)
                        : absl::StrCat(list.size(), " ", what, " (", JoinCapped(list), ")");
  };
  log_->Info("auth", "reloaded %s: %d tokens in force; %s, %s, %s", options_.auth_tokens,
             changes->tokens, names("added", changes->added), names("removed", changes->removed),
             names("changed", changes->changed));
  return absl::OkStatus();
}

std::string FieldloopServer::address() const { return absl::StrCat(host_, ":", port_); }

void FieldloopServer::Shutdown(absl::Duration grace) {
  if (shut_down_) return;
  shut_down_ = true;
  if (started_) log_->Info("fieldloopd", "shutting down");
  if (scheduler_ != nullptr) scheduler_->Stop();  // Lets a scheduled run in progress end.
  if (server_ != nullptr) {
    store_->SetWriteHealthObserver(nullptr);  // Health stays NOT_SERVING from here on.
    server_->GetHealthCheckService()->SetServingStatus(false);
    ingest_service_->Drain();
    // Once every stream has sent its final status, what is left open is only the read
    // side of streams whose clients never half-close; cancelling those loses nothing.
    const absl::Time deadline = absl::Now() + grace;
    const bool finished = ingest_service_->WaitForFinished(deadline);
    // Board calls waiting for the applier end now (UNAVAILABLE) instead of holding up the
    // shutdown; what is not applied yet is replayed at the next start.
    if (applier_ != nullptr) applier_->Stop();
    theme_feed_.Close();  // Ends the watch streams.
    if (finished) {
      server_->Shutdown(std::chrono::system_clock::now() + std::chrono::milliseconds(100));
    } else {
      server_->Shutdown(absl::ToChronoTime(deadline));
    }
    server_->Wait();
    ingest_service_->WaitForStreams();
  }
  // No materialization runs any more: the request in flight gets its grace, what is queued
  // is dropped (not marked delivered, so sent after a materialization following a restart).
  if (tasks_webhook_ != nullptr) tasks_webhook_->Stop();
  if (ingestor_ != nullptr) ingestor_->Stop();  // Writes what is queued, joins the committer.
  // Stopped above when the gRPC server ran; here when Start failed after starting it.
  if (applier_ != nullptr) applier_->Stop();
  if (metrics_ != nullptr) metrics_->StopServing();  // Scrapes until everything stopped.
  if (started_) {
    // Worded as fieldloopd printed it before the event log: tests and people look for it.
    const IngestStats ingested = ingestor_->stats();
    const ApplierStats applied = applier_->stats();
    log_->Info("fieldloopd",
               "stopped; this run: %d accepted, %d duplicate, %d rejected; %d applied to themes "
               "(%d replayed at start)",
               ingested.accepted, ingested.duplicate, ingested.rejected, applied.applied,
               applied.replayed);
  }
  // The store stays open until destruction: ingestor_ (stopped) still points at it.
}

}  // namespace fieldloop::services
