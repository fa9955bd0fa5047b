#include "services/server.h"

#include <unistd.h>

#include <algorithm>
#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/health_check_service_interface.h"

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
  const size_t colon = options.listen.rfind(':');
  if (colon == std::string::npos || colon == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("--listen='", options.listen, "' must be host:port, e.g. 127.0.0.1:50551"));
  }
  // Without TLS and tokens (not built yet) anyone who reaches the port may read and write
  // everything: serve only this machine unless told otherwise.
  if (const std::string host = options.listen.substr(0, colon);
      !IsLoopbackHost(host) && !options.allow_insecure) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--listen='", options.listen,
        "' is not a loopback address: fieldloopd has no TLS or access tokens yet, so anyone "
        "reaching that address could read and change every initiative. Listen on 127.0.0.1 "
        "(behind a proxy that authenticates), or pass --allow_insecure to listen there anyway"));
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
  auto store = storage::Store::Open(options.data_dir, store_options);
  if (!store.ok()) return store.status();
  server->store_ = std::move(*store);
  auto backups = Backups::AtRoot(options.backup_root, server->store_.get());
  if (!backups.ok()) return backups.status();
  server->backups_ = std::move(*backups);
  server->admin_service_ = std::make_unique<AdminService>(server->backups_.get());
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

  IngestorOptions ingestor_options;
  ingestor_options.limits.max_record_bytes = options.max_record_bytes;
  ingestor_options.metrics = server->metrics_.get();
  ingestor_options.log = log;
  ThemeApplier* applier = server->applier_.get();
  if (options.apply_themes) ingestor_options.on_commit = [applier] { applier->Notify(); };
  const Clock* clock = options.clock != nullptr ? options.clock : &server->system_clock_;
  server->ingestor_ = std::make_unique<Ingestor>(server->store_.get(), clock, ingestor_options);
  server->ingest_service_ =
      std::make_unique<IngestService>(server->ingestor_.get(), server->applier_.get(), log);

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
  server->board_service_ = std::make_unique<BoardService>(server->board_keeper_.get(), clock);
  server->themes_service_ =
      std::make_unique<ThemesService>(server->store_.get(), server->applier_.get(),
                                      &server->theme_feed_, clock, options.redact_pii);

  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  builder.AddListeningPort(options.listen, grpc::InsecureServerCredentials(), &server->port_);
  // Records over --max_record_bytes get their own rejection; only messages beyond this
  // transport limit end the stream.
  builder.SetMaxReceiveMessageSize(
      static_cast<int>(std::max<size_t>(4 * options.max_record_bytes, 4u << 20)));
  builder.RegisterService(server->ingest_service_.get());
  builder.RegisterService(server->board_service_.get());
  builder.RegisterService(server->themes_service_.get());
  builder.RegisterService(server->admin_service_.get());
  server->server_ = builder.BuildAndStart();
  if (server->server_ == nullptr || server->port_ == 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", options.listen, " (address in use or not local?)"));
  }
  server->server_->GetHealthCheckService()->SetServingStatus(true);
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
            "tasks_webhook %s, metrics %s, log_level %s",
            static_cast<int>(getpid()), server->address(), options.data_dir,
            server->store_->schema_version(), options.output_root,
            options.sync_writes ? "true" : "false", options.apply_themes ? "true" : "false",
            options.max_record_bytes, DescribeSchedule(options.schedule),
            server->tasks_webhook_ != nullptr ? server->tasks_webhook_->display_url() : "off",
            server->metrics_ != nullptr
                ? absl::StrCat("http://", server->metrics_->address(), "/metrics")
                : std::string("off"),
            absl::AsciiStrToLower(LogLevelName(options.log_level)));
  server->started_ = true;
  return server;
}

FieldloopServer::~FieldloopServer() { Shutdown(); }

std::string FieldloopServer::address() const { return absl::StrCat(host_, ":", port_); }

void FieldloopServer::Shutdown(absl::Duration grace) {
  if (shut_down_) return;
  shut_down_ = true;
  if (started_) log_->Info("fieldloopd", "shutting down");
  if (scheduler_ != nullptr) scheduler_->Stop();  // Lets a scheduled run in progress end.
  if (server_ != nullptr) {
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
