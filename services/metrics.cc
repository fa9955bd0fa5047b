#include "services/metrics.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <exception>
#include <iterator>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "prometheus/collectable.h"
#include "prometheus/counter.h"
#include "prometheus/exposer.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"
#include "prometheus/metric_family.h"
#include "prometheus/registry.h"
#include "services/heap_stats.h"

namespace fieldloop::services {
namespace {

constexpr absl::string_view kKindLabels[] = {"unknown",         "feedback_event",
                                             "call_transcript", "win_loss_note",
                                             "content_asset",   "onboarding_metric"};
constexpr const char* kStatusLabels[] = {"accepted", "duplicate", "rejected"};
constexpr const char* kTriggerLabels[] = {"request", "schedule"};
constexpr const char* kOutcomeLabels[] = {"error", "ok"};  // Indexed by `ok`.

// Index into kKindLabels: the RecordKind value, 0 ("unknown") for any other.
int KindIndex(fieldloop::v1::RecordKind kind) {
  const int k = static_cast<int>(kind);
  return k >= 1 && k < static_cast<int>(std::size(kKindLabels)) ? k : 0;
}

int StatusIndex(fieldloop::v1::AckStatus status) {
  switch (status) {
    case fieldloop::v1::ACK_STATUS_ACCEPTED:
      return 0;
    case fieldloop::v1::ACK_STATUS_DUPLICATE:
      return 1;
    case fieldloop::v1::ACK_STATUS_REJECTED:
      return 2;
    default:
      return -1;
  }
}

// Bucket increments for prometheus::Histogram::ObserveMultiple: a value goes to the first
// bucket whose upper bound is >= it (the last, +Inf, when none is), as Observe does.
std::vector<double> BucketIncrements(const std::vector<double>& bounds,
                                     const std::vector<double>& values, double* sum) {
  std::vector<double> increments(bounds.size() + 1, 0.0);
  *sum = 0;
  for (double v : values) {
    increments[std::lower_bound(bounds.begin(), bounds.end(), v) - bounds.begin()] += 1;
    *sum += v;
  }
  return increments;
}

// Connects to the loopback `host`:`port` and hangs up at once; errors are ignored.
void WakeListener(const std::string& host, int port) {
  const bool v6 = host == "::1";
  const int fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return;
  if (v6) {
    sockaddr_in6 addr{};
    addr.sin6_family = AF_INET6;
    addr.sin6_port = htons(static_cast<uint16_t>(port));
    addr.sin6_addr = in6addr_loopback;
    (void)connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  } else {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    (void)connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  }
  close(fd);
}

prometheus::MetricFamily Family(const char* name, const char* help, prometheus::MetricType type) {
  prometheus::MetricFamily family;
  family.name = name;
  family.help = help;
  family.type = type;
  return family;
}

prometheus::ClientMetric GaugeSample(double value,
                                     std::vector<prometheus::ClientMetric::Label> labels = {}) {
  prometheus::ClientMetric metric;
  metric.label = std::move(labels);
  metric.gauge.value = value;
  return metric;
}

}  // namespace

absl::StatusOr<MetricsEndpoint> ParseMetricsListen(absl::string_view listen) {
  const auto bad = [listen](absl::string_view rule) {
    return absl::InvalidArgumentError(absl::StrCat("--metrics_listen='", listen, "' ", rule));
  };
  absl::string_view host;
  absl::string_view port_text = listen;
  if (!listen.empty() && listen.front() == '[') {
    const size_t close = listen.find(']');
    if (close == absl::string_view::npos || close + 1 >= listen.size() ||
        listen[close + 1] != ':') {
      return bad("must be PORT, 127.0.0.1:PORT, localhost:PORT or [::1]:PORT");
    }
    host = listen.substr(1, close - 1);
    port_text = listen.substr(close + 2);
  } else if (const size_t colon = listen.rfind(':'); colon != absl::string_view::npos) {
    host = listen.substr(0, colon);
    port_text = listen.substr(colon + 1);
    if (host.find(':') != absl::string_view::npos) {
      return bad("must write an IPv6 address in brackets, as in [::1]:PORT");
    }
  } else {
    host = "127.0.0.1";  // A bare port: loopback, never every interface.
  }
  int port = -1;
  if (port_text.empty() || port_text.find_first_not_of("0123456789") != absl::string_view::npos ||
      !absl::SimpleAtoi(port_text, &port) || port > 65535) {
    return bad("must end in a port from 0 to 65535 (0 picks a free one)");
  }
  MetricsEndpoint endpoint;
  endpoint.port = port;
  if (host == "127.0.0.1" || host == "localhost") {
    endpoint.host = "127.0.0.1";
  } else if (host == "::1") {
    endpoint.host = "::1";
  } else {
    return bad(
        "is not a loopback address: the metrics endpoint has no access control yet, so it "
        "only listens on 127.0.0.1, localhost or [::1] (a bare port means 127.0.0.1)");
  }
  return endpoint;
}

absl::string_view KindLabel(fieldloop::v1::RecordKind kind) { return kKindLabels[KindIndex(kind)]; }

const std::vector<double>& ServerMetrics::AckLatencyBuckets() {
  static const auto* const kBuckets = new std::vector<double>{
      0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5};
  return *kBuckets;
}

const std::vector<double>& ServerMetrics::MaterializationBuckets() {
  static const auto* const kBuckets =
      new std::vector<double>{0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300};
  return *kBuckets;
}

// Computes, when scraped, what is not worth keeping current: the apply lag (records and the
// age of the oldest), the live themes and RocksDB's figures.
class ServerMetrics::ScrapeView : public prometheus::Collectable {
 public:
  explicit ScrapeView(const ServerMetrics* metrics) : metrics_(metrics) {}

  std::vector<prometheus::MetricFamily> Collect() const override {
    using prometheus::MetricType;
    std::vector<prometheus::MetricFamily> out;
    auto lag_records =
        Family("fieldloop_apply_lag_records",
               "Records acked (stored) but not yet applied to the theme state, per initiative.",
               MetricType::Gauge);
    auto lag_seconds = Family("fieldloop_apply_lag_seconds",
                              "Seconds the oldest record acked but not yet applied to the theme "
                              "state has waited, per initiative; 0 when none waits.",
                              MetricType::Gauge);
    auto themes = Family("fieldloop_live_themes",
                         "Live themes (not merged away) of each initiative's theme state.",
                         MetricType::Gauge);
    const absl::Time now = metrics_->clock_->Now();
    {
      absl::MutexLock lock(&metrics_->mu_);
      for (const auto& [initiative, lag] : metrics_->lag_) {
        std::vector<prometheus::ClientMetric::Label> labels = {{"initiative", initiative}};
        const uint64_t waiting = lag.stored > lag.applied ? lag.stored - lag.applied : 0;
        double age = 0;
        if (waiting > 0 && !lag.marks.empty()) {
          age = std::max(0.0, absl::ToDoubleSeconds(now - lag.marks.front().second));
        }
        lag_records.metric.push_back(GaugeSample(static_cast<double>(waiting), labels));
        lag_seconds.metric.push_back(GaugeSample(age, labels));
        if (lag.themes_known) {
          themes.metric.push_back(GaugeSample(static_cast<double>(lag.live_themes), labels));
        }
      }
    }
    for (auto* family : {&lag_records, &lag_seconds, &themes}) {
      if (!family->metric.empty()) out.push_back(std::move(*family));
    }

    const storage::StoreStats stats = metrics_->store_->Stats();
    auto sst = Family("fieldloop_rocksdb_sst_files_size_bytes",
                      "Bytes of all RocksDB SST files, every column family "
                      "(rocksdb.total-sst-files-size).",
                      MetricType::Gauge);
    sst.metric.push_back(GaugeSample(static_cast<double>(stats.sst_files_bytes)));
    out.push_back(std::move(sst));
    auto live = Family("fieldloop_rocksdb_live_data_size_bytes",
                       "RocksDB's estimate of the bytes of live data, every column family "
                       "(rocksdb.estimate-live-data-size).",
                       MetricType::Gauge);
    live.metric.push_back(GaugeSample(static_cast<double>(stats.live_data_bytes)));
    out.push_back(std::move(live));
    auto memory = Family("fieldloop_rocksdb_memory_bytes",
                         "Memory RocksDB holds, by part: memtables (active and immutable, every "
                         "column family), table_readers (index and filter blocks outside the "
                         "block cache), block_cache (the block cache's usage).",
                         MetricType::Gauge);
    memory.metric.push_back(
        GaugeSample(static_cast<double>(stats.memtable_bytes), {{"part", "memtables"}}));
    memory.metric.push_back(
        GaugeSample(static_cast<double>(stats.table_readers_bytes), {{"part", "table_readers"}}));
    memory.metric.push_back(
        GaugeSample(static_cast<double>(stats.block_cache_bytes), {{"part", "block_cache"}}));
    out.push_back(std::move(memory));
    if (const HeapStats heap = ReadHeapStats(); heap.known) {
      auto heap_family = Family("fieldloop_heap_bytes",
                                "The memory allocator's figures (jemalloc): allocated (live "
                                "allocations, RocksDB's included) and resident (its pages in RAM).",
                                MetricType::Gauge);
      heap_family.metric.push_back(
          GaugeSample(static_cast<double>(heap.allocated_bytes), {{"part", "allocated"}}));
      heap_family.metric.push_back(
          GaugeSample(static_cast<double>(heap.resident_bytes), {{"part", "resident"}}));
      out.push_back(std::move(heap_family));
    }
    auto stall = Family("fieldloop_rocksdb_write_stall_seconds_total",
                        "Seconds writes waited because RocksDB delayed or stopped them (write "
                        "stall; RocksDB's STALL_MICROS ticker) since the server started.",
                        MetricType::Counter);
    prometheus::ClientMetric stall_metric;
    stall_metric.counter.value = static_cast<double>(stats.write_stall_micros) / 1e6;
    stall.metric.push_back(stall_metric);
    out.push_back(std::move(stall));
    auto stopped = Family("fieldloop_rocksdb_writes_stopped",
                          "1 while RocksDB stops writes (rocksdb.is-write-stopped), else 0.",
                          MetricType::Gauge);
    stopped.metric.push_back(GaugeSample(stats.writes_stopped ? 1 : 0));
    out.push_back(std::move(stopped));
    auto writable = Family("fieldloop_store_writable",
                           "1 while the store can write, 0 from a failed write (disk full, I/O "
                           "error) until it recovers.",
                           MetricType::Gauge);
    writable.metric.push_back(GaugeSample(stats.writable ? 1 : 0));
    out.push_back(std::move(writable));
    auto failed = Family("fieldloop_store_failed_writes_total",
                         "Store writes (batches of records, theme state, tasks) that failed "
                         "since the server started.",
                         MetricType::Counter);
    prometheus::ClientMetric failed_metric;
    failed_metric.counter.value = static_cast<double>(stats.failed_writes);
    failed.metric.push_back(failed_metric);
    out.push_back(std::move(failed));
    return out;
  }

 private:
  const ServerMetrics* const metrics_;
};

ServerMetrics::ServerMetrics(const storage::Store* store, const Clock* clock)
    : store_(store),
      clock_(clock),
      registry_(std::make_shared<prometheus::Registry>()),
      scrape_view_(std::make_shared<ScrapeView>(this)) {
  auto& received = prometheus::BuildCounter()
                       .Name("fieldloop_ingest_records_received_total")
                       .Help("Requests read from Ingest streams, by record kind.")
                       .Register(*registry_);
  auto& acked = prometheus::BuildCounter()
                    .Name("fieldloop_ingest_records_acked_total")
                    .Help(
                        "Requests acked, by record kind and ack status (accepted, duplicate, "
                        "rejected).")
                    .Register(*registry_);
  for (int k = 0; k < kKinds; ++k) {
    const std::string kind(kKindLabels[k]);
    received_[k] = &received.Add({{"kind", kind}});
    for (int s = 0; s < kStatuses; ++s) {
      acked_[k][s] = &acked.Add({{"kind", kind}, {"status", kStatusLabels[s]}});
    }
  }
  ack_latency_ = &prometheus::BuildHistogram()
                      .Name("fieldloop_ingest_ack_latency_seconds")
                      .Help(
                          "Seconds from a request reaching the server (read and decoded) to "
                          "its ack being queued on the stream; every ack, any status.")
                      .Register(*registry_)
                      .Add({}, AckLatencyBuckets());
  auto& materializations = prometheus::BuildCounter()
                               .Name("fieldloop_materializations_total")
                               .Help(
                                   "Materializations of an initiative's board and plan, by "
                                   "trigger (request, schedule) and outcome (ok, error).")
                               .Register(*registry_);
  for (int t = 0; t < 2; ++t) {
    for (int ok = 0; ok < 2; ++ok) {
      materializations_[t][ok] =
          &materializations.Add({{"trigger", kTriggerLabels[t]}, {"outcome", kOutcomeLabels[ok]}});
    }
  }
  materialization_duration_ =
      &prometheus::BuildHistogram()
           .Name("fieldloop_materialization_duration_seconds")
           .Help(
               "Seconds one materialization took, waiting for the theme state to catch up "
               "included; successful and failed ones.")
           .Register(*registry_)
           .Add({}, MaterializationBuckets());
  auth_failures_ = &prometheus::BuildCounter()
                        .Name("fieldloop_auth_failures_total")
                        .Help(
                            "Calls (and Ingest records) refused by access control, by code "
                            "(unauthenticated, permission_denied) and method (Service.Method).")
                        .Register(*registry_);
  auto& reloads = prometheus::BuildCounter()
                      .Name("fieldloop_auth_reloads_total")
                      .Help(
                          "Reloads of the tokens file (--auth_tokens, SIGHUP) by outcome: ok "
                          "(its tokens are in force), error (unreadable or malformed: the "
                          "old tokens stay).")
                      .Register(*registry_);
  for (int ok = 0; ok < 2; ++ok) {
    auth_reloads_[ok] = &reloads.Add({{"outcome", kOutcomeLabels[ok]}});
  }

  ingest_streams_open_ = &prometheus::BuildGauge()
                              .Name("fieldloop_ingest_streams_open")
                              .Help("Ingest.Stream calls open now.")
                              .Register(*registry_)
                              .Add({});
  auto& refused = prometheus::BuildCounter()
                      .Name("fieldloop_streams_refused_total")
                      .Help(
                          "Streaming calls refused at once with RESOURCE_EXHAUSTED, by limit "
                          "(max_streams: Ingest.Stream, max_watchers: Themes.WatchThemes).")
                      .Register(*registry_);
  streams_refused_[0] = &refused.Add({{"reason", "max_streams"}});
  streams_refused_[1] = &refused.Add({{"reason", "max_watchers"}});

  // Records stored before this start (not applied yet, e.g. by an ingest-only server) wait
  // from now on, as far as this process can tell.
  const absl::Time now = clock_->Now();
  absl::MutexLock lock(&mu_);
  for (const std::string& initiative : store_->Initiatives()) {
    InitiativeLag& lag = lag_[initiative];
    lag.stored = store_->LastSequence(initiative);
    absl::StatusOr<storage::SequenceNumber> applied = store_->AppliedSequence(initiative);
    lag.applied = applied.ok() ? *applied : 0;
    if (lag.stored > lag.applied) lag.marks.emplace_back(lag.stored, now);
  }
}

ServerMetrics::~ServerMetrics() { StopServing(); }

absl::Status ServerMetrics::Listen(absl::string_view listen) {
  absl::StatusOr<MetricsEndpoint> endpoint = ParseMetricsListen(listen);
  if (!endpoint.ok()) return endpoint.status();
  const std::string address = endpoint->host == "::1"
                                  ? absl::StrCat("[::1]:", endpoint->port)
                                  : absl::StrCat(endpoint->host, ":", endpoint->port);
  absl::MutexLock lock(&serving_mu_);
  if (exposer_ != nullptr) return absl::FailedPreconditionError("metrics are already served");
  // prometheus-cpp (civetweb underneath) reports a failed bind by throwing.
  std::unique_ptr<prometheus::Exposer> exposer;
  try {
    exposer = std::make_unique<prometheus::Exposer>(address, /*num_threads=*/2);
  } catch (const std::exception& e) {
    std::string hint = endpoint->host == "::1"
                           ? " (the HTTP library of this build may lack IPv6: Debian 12's "
                             "civetweb does; use 127.0.0.1:PORT)"
                           : " (address in use?)";
    return absl::UnavailableError(
        absl::StrCat("cannot serve metrics on ", address, hint, ": ", e.what()));
  }
  const std::vector<int> ports = exposer->GetListeningPorts();
  if (ports.empty() || ports.front() <= 0) {
    return absl::UnavailableError(absl::StrCat("cannot serve metrics on ", address));
  }
  exposer->RegisterCollectable(registry_);
  exposer->RegisterCollectable(scrape_view_);
  exposer_ = std::move(exposer);
  host_ = endpoint->host;
  port_ = ports.front();
  return absl::OkStatus();
}

int ServerMetrics::port() const {
  absl::MutexLock lock(&serving_mu_);
  return port_;
}

std::string ServerMetrics::address() const {
  absl::MutexLock lock(&serving_mu_);
  if (exposer_ == nullptr) return "";
  return host_ == "::1" ? absl::StrCat("[::1]:", port_) : absl::StrCat(host_, ":", port_);
}

void ServerMetrics::StopServing() {
  std::unique_ptr<prometheus::Exposer> exposer;
  std::string host;
  int port;
  {
    absl::MutexLock lock(&serving_mu_);
    exposer = std::move(exposer_);
    host = host_;
    port = port_;
    port_ = 0;
  }
  if (exposer == nullptr) return;
  // civetweb's listener thread notices that it should stop only when its poll() returns,
  // which without traffic takes up to 2 s (its SOCKET_TIMEOUT_QUANTUM): that would make
  // every shutdown 2 s longer. A connection to the port wakes it at once, so while the
  // exposer is being destroyed (joining civetweb's threads) we keep connecting and hanging
  // up until it is gone.
  absl::Notification stopped;
  std::thread stopper([&] {
    exposer.reset();
    stopped.Notify();
  });
  while (!stopped.WaitForNotificationWithTimeout(absl::Milliseconds(10))) {
    WakeListener(host, port);
  }
  stopper.join();
}

void ServerMetrics::RecordReceived(fieldloop::v1::RecordKind kind) {
  received_[KindIndex(kind)]->Increment();
}

void ServerMetrics::RecordAcked(fieldloop::v1::RecordKind kind, fieldloop::v1::AckStatus status,
                                uint64_t count) {
  const int s = StatusIndex(status);
  if (s < 0 || count == 0) return;
  acked_[KindIndex(kind)][s]->Increment(static_cast<double>(count));
}

void ServerMetrics::ObserveAckLatencies(const std::vector<double>& seconds) {
  if (seconds.empty()) return;
  double sum = 0;
  std::vector<double> increments = BucketIncrements(AckLatencyBuckets(), seconds, &sum);
  ack_latency_->ObserveMultiple(increments, sum);
}

void ServerMetrics::RecordStored(const std::string& initiative,
                                 storage::SequenceNumber last_sequence) {
  const absl::Time now = clock_->Now();
  absl::MutexLock lock(&mu_);
  InitiativeLag& lag = lag_[initiative];
  lag.stored = std::max(lag.stored, last_sequence);
  if (last_sequence <= lag.applied) return;  // Applied already (the applier was quicker).
  if (!lag.marks.empty() && lag.marks.back().first >= last_sequence) return;
  if (lag.marks.size() >= kMaxMarks) {
    lag.marks.back().first = last_sequence;  // Keeps the older time: overstates, never hides.
  } else {
    lag.marks.emplace_back(last_sequence, now);
  }
}

void ServerMetrics::RecordApplied(const std::string& initiative, storage::SequenceNumber applied,
                                  size_t live_themes) {
  absl::MutexLock lock(&mu_);
  InitiativeLag& lag = lag_[initiative];
  lag.applied = std::max(lag.applied, applied);
  lag.stored = std::max(lag.stored, lag.applied);
  lag.live_themes = live_themes;
  lag.themes_known = true;
  while (!lag.marks.empty() && lag.marks.front().first <= lag.applied) lag.marks.pop_front();
}

void ServerMetrics::RecordMaterialization(MaterializeTrigger trigger, bool ok,
                                          absl::Duration took) {
  materializations_[trigger == MaterializeTrigger::kSchedule ? 1 : 0][ok ? 1 : 0]->Increment();
  materialization_duration_->Observe(std::max(0.0, absl::ToDoubleSeconds(took)));
}

void ServerMetrics::IngestStreamOpened() { ingest_streams_open_->Increment(); }

void ServerMetrics::IngestStreamClosed() { ingest_streams_open_->Decrement(); }

void ServerMetrics::RecordStreamRefused(StreamRefusal reason) {
  streams_refused_[reason == StreamRefusal::kMaxStreams ? 0 : 1]->Increment();
}

void ServerMetrics::RecordAuthFailure(absl::string_view code, absl::string_view method) {
  // Family::Add is thread-safe and returns the existing series for known labels.
  auth_failures_->Add({{"code", std::string(code)}, {"method", std::string(method)}}).Increment();
}

void ServerMetrics::RecordAuthReload(bool ok) { auth_reloads_[ok ? 1 : 0]->Increment(); }

}  // namespace fieldloop::services
