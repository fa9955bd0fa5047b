// The Prometheus metrics endpoint through a real server on 127.0.0.1:0 with a real RocksDB,
// scraped over a plain socket: counters equal what was streamed, acked, applied and
// materialized; the apply lag and its age; RocksDB's sizes; loopback only; no port when off.
// And through the fieldloopd binary: the startup line names the port, a non-loopback
// address stops the start.
#include "services/metrics.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/civil_time.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "proto/fieldloop/v1/board.grpc.pb.h"
#include "services/server.h"
#include "tests/testing/fake_clock.h"
#include "tests/testing/http_get.h"
#include "tests/testing/ingest_client.h"
#include "tests/testing/subprocess.h"
#include "tests/testing/temp_dir.h"

namespace fieldloop {
namespace {

using ::testing::HasSubstr;
using Labels = std::map<std::string, std::string>;

constexpr char kInitiative[] = "q3-push";

// The samples of a Prometheus text exposition, keyed by name and labels (labels sorted by
// name, so the key does not depend on the order the server wrote them in).
class Scrape {
 public:
  explicit Scrape(const std::string& text) {
    for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipEmpty())) {
      if (line.front() == '#') continue;
      const size_t space = line.rfind(' ');
      if (space == absl::string_view::npos) {
        ADD_FAILURE() << "not a sample: " << line;
        continue;
      }
      const absl::string_view series = line.substr(0, space);
      const std::string value(line.substr(space + 1));
      const size_t brace = series.find('{');
      Labels labels;
      if (brace != absl::string_view::npos) {
        // Label values here never hold a comma or an escaped quote.
        for (absl::string_view pair : absl::StrSplit(
                 series.substr(brace + 1, series.size() - brace - 2), ',', absl::SkipEmpty())) {
          const size_t eq = pair.find('=');
          if (eq == absl::string_view::npos) {
            ADD_FAILURE() << "bad label in " << line;
            continue;
          }
          labels[std::string(pair.substr(0, eq))] =
              std::string(pair.substr(eq + 2, pair.size() - eq - 3));
        }
      }
      samples_[Key(series.substr(0, brace), labels)] = std::strtod(value.c_str(), nullptr);
    }
  }

  // The value of the series, nullopt when the exposition does not have it.
  std::optional<double> Find(absl::string_view name, const Labels& labels = {}) const {
    auto it = samples_.find(Key(name, labels));
    if (it == samples_.end()) return std::nullopt;
    return it->second;
  }
  // The value of the series; fails the test (and gives -1) when it is missing.
  double Get(absl::string_view name, const Labels& labels = {}) const {
    std::optional<double> v = Find(name, labels);
    EXPECT_TRUE(v.has_value()) << "no series " << Key(name, labels);
    return v.value_or(-1);
  }

 private:
  static std::string Key(absl::string_view name, const Labels& labels) {
    return absl::StrCat(name, "{", absl::StrJoin(labels, ",", absl::PairFormatter("=")), "}");
  }
  std::map<std::string, double> samples_;
};

// Ports this process listens on (TCP, IPv4 and IPv6), with the local address in hex as
// /proc/net/tcp writes it ("0100007F" is 127.0.0.1).
std::multimap<int, std::string> ListeningPorts() {
  std::set<std::string> inodes;  // "socket:[123]" targets of our file descriptors.
  if (DIR* dir = opendir("/proc/self/fd")) {
    while (dirent* e = readdir(dir)) {
      char target[256];
      const ssize_t n =
          readlink(absl::StrCat("/proc/self/fd/", e->d_name).c_str(), target, sizeof target - 1);
      if (n <= 0) continue;
      const std::string link(target, n);
      if (link.rfind("socket:[", 0) == 0) inodes.insert(link.substr(8, link.size() - 9));
    }
    closedir(dir);
  }
  std::multimap<int, std::string> out;
  for (const char* table : {"/proc/self/net/tcp", "/proc/self/net/tcp6"}) {
    std::ifstream in(table);
    std::string line;
    std::getline(in, line);  // Header.
    while (std::getline(in, line)) {
      std::vector<std::string> f = absl::StrSplit(line, ' ', absl::SkipEmpty());
      if (f.size() < 10 || f[3] != "0A" || !inodes.count(f[9])) continue;  // 0A: LISTEN.
      const size_t colon = f[1].find(':');
      out.emplace(std::stoi(f[1].substr(colon + 1), nullptr, 16), f[1].substr(0, colon));
    }
  }
  return out;
}

class MetricsTest : public ::testing::Test {
 protected:
  void StartServer(bool apply_themes = true, const std::string& metrics_listen = "127.0.0.1:0") {
    services::ServerOptions options;
    options.listen = "127.0.0.1:0";
    options.data_dir = dir_.Sub("data");
    options.output_root = dir_.Sub("out");
    options.apply_themes = apply_themes;
    options.metrics_listen = metrics_listen;
    options.clock = &clock_;
    auto server = services::FieldloopServer::Start(options);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
  }

  Scrape ScrapeMetrics() {
    std::optional<testing::HttpResponse> r = testing::HttpGet(server_->metrics_port(), "/metrics");
    EXPECT_TRUE(r.has_value()) << "no HTTP response on port " << server_->metrics_port();
    if (!r) return Scrape("");
    EXPECT_EQ(r->status, 200) << r->headers;
    return Scrape(r->body);
  }

  grpc::Status WaitApplied() { return testing::WaitApplied(server_->address(), kInitiative); }

  grpc::Status Materialize() {
    auto board = v1::Board::NewStub(
        grpc::CreateChannel(server_->address(), grpc::InsecureChannelCredentials()));
    grpc::ClientContext context;
    v1::MaterializeRequest request;
    request.set_initiative(kInitiative);
    request.set_as_of("2026-11-25");
    v1::MaterializeResponse response;
    return board->Materialize(&context, request, &response);
  }

  testing::TempDir dir_;
  const absl::Time start_ =
      absl::FromCivil(absl::CivilSecond(2026, 11, 25, 10, 15, 0), absl::UTCTimeZone());
  testing::FakeClock clock_{start_};
  std::unique_ptr<services::FieldloopServer> server_;
};

v1::IngestRequest Asset(const std::string& id) {
  v1::IngestRequest r;
  auto* a = r.mutable_content_asset();
  a->set_asset_id(id);
  a->set_initiative(kInitiative);
  a->set_title("Pricing deck");
  a->set_type(v1::ASSET_TYPE_DECK);
  a->set_owner("pmm@example.com");
  a->set_last_updated("2026-01-01");
  return r;
}

TEST_F(MetricsTest, CountersEqualWhatWasStreamedAppliedAndMaterialized) {
  StartServer();
  ASSERT_GT(server_->metrics_port(), 0);
  v1::IngestRequest empty_text = testing::Feedback(4);
  empty_text.mutable_feedback_event()->set_text("");
  const std::vector<v1::IngestRequest> records = {
      testing::Feedback(1), testing::Feedback(2), testing::Feedback(3),
      testing::Feedback(1),  // Duplicate.
      empty_text,            // Rejected: empty text.
      Asset("cnt-1"),
      v1::IngestRequest(),  // Rejected: no record at all, kind unknown.
  };
  testing::StreamResult result = testing::StreamAll(server_->address(), records);
  ASSERT_TRUE(result.status.ok()) << result.status.error_message();
  ASSERT_EQ(result.acks.size(), records.size());
  const std::vector<v1::AckStatus> expected = {v1::ACK_STATUS_ACCEPTED, v1::ACK_STATUS_ACCEPTED,
                                               v1::ACK_STATUS_ACCEPTED, v1::ACK_STATUS_DUPLICATE,
                                               v1::ACK_STATUS_REJECTED, v1::ACK_STATUS_ACCEPTED,
                                               v1::ACK_STATUS_REJECTED};
  std::map<std::pair<std::string, std::string>, int> acked;  // (kind, status) -> acks.
  for (size_t i = 0; i < records.size(); ++i) {
    ASSERT_EQ(result.acks[i].status(), expected[i]) << i << ": " << result.acks[i].message();
    const std::string status = result.acks[i].status() == v1::ACK_STATUS_ACCEPTED    ? "accepted"
                               : result.acks[i].status() == v1::ACK_STATUS_DUPLICATE ? "duplicate"
                                                                                     : "rejected";
    ++acked[{std::string(services::KindLabel(result.acks[i].kind())), status}];
  }
  ASSERT_TRUE(WaitApplied().ok());

  Scrape m = ScrapeMetrics();
  const std::string received = "fieldloop_ingest_records_received_total";
  EXPECT_EQ(m.Get(received, {{"kind", "feedback_event"}}), 5);
  EXPECT_EQ(m.Get(received, {{"kind", "content_asset"}}), 1);
  EXPECT_EQ(m.Get(received, {{"kind", "unknown"}}), 1);
  EXPECT_EQ(m.Get(received, {{"kind", "call_transcript"}}), 0);
  const std::string acks = "fieldloop_ingest_records_acked_total";
  for (const char* kind : {"feedback_event", "call_transcript", "win_loss_note", "content_asset",
                           "onboarding_metric", "unknown"}) {
    for (const char* status : {"accepted", "duplicate", "rejected"}) {
      EXPECT_EQ(m.Get(acks, {{"kind", kind}, {"status", status}}), (acked[{kind, status}]))
          << kind << " " << status;
    }
  }
  EXPECT_EQ(m.Get(acks, {{"kind", "feedback_event"}, {"status", "accepted"}}), 3);
  EXPECT_EQ(m.Get(acks, {{"kind", "feedback_event"}, {"status", "duplicate"}}), 1);
  EXPECT_EQ(m.Get(acks, {{"kind", "feedback_event"}, {"status", "rejected"}}), 1);
  EXPECT_EQ(m.Get(acks, {{"kind", "unknown"}, {"status", "rejected"}}), 1);

  // One latency per ack, whatever its status.
  EXPECT_EQ(m.Get("fieldloop_ingest_ack_latency_seconds_count"), records.size());
  EXPECT_EQ(m.Get("fieldloop_ingest_ack_latency_seconds_bucket", {{"le", "+Inf"}}), records.size());
  EXPECT_GT(m.Get("fieldloop_ingest_ack_latency_seconds_sum"), 0);

  // Applied: no lag; the themes gauge is the applier's number of live themes.
  EXPECT_EQ(m.Get("fieldloop_apply_lag_records", {{"initiative", kInitiative}}), 0);
  EXPECT_EQ(m.Get("fieldloop_apply_lag_seconds", {{"initiative", kInitiative}}), 0);
  const double themes = m.Get("fieldloop_live_themes", {{"initiative", kInitiative}});
  EXPECT_GT(themes, 0);
  EXPECT_EQ(themes, server_->applier().Summaries(kInitiative).size());
  EXPECT_EQ(m.Get("fieldloop_materializations_total", {{"trigger", "request"}, {"outcome", "ok"}}),
            0);

  // One scheduled run (the schedule's own call), then one on request.
  EXPECT_THAT(server_->board_keeper().MaterializeChanged(absl::CivilDay(2026, 11, 25), nullptr),
              ::testing::ElementsAre(kInitiative));
  grpc::Status s = Materialize();
  ASSERT_TRUE(s.ok()) << s.error_message();
  m = ScrapeMetrics();
  const std::string runs = "fieldloop_materializations_total";
  EXPECT_EQ(m.Get(runs, {{"trigger", "request"}, {"outcome", "ok"}}), 1);
  EXPECT_EQ(m.Get(runs, {{"trigger", "request"}, {"outcome", "error"}}), 0);
  EXPECT_EQ(m.Get(runs, {{"trigger", "schedule"}, {"outcome", "ok"}}), 1);
  EXPECT_EQ(m.Get(runs, {{"trigger", "schedule"}, {"outcome", "error"}}), 0);
  EXPECT_EQ(m.Get("fieldloop_materialization_duration_seconds_count"), 2);

  // Scraping changes nothing: the same counters again.
  Scrape again = ScrapeMetrics();
  EXPECT_EQ(again.Get(received, {{"kind", "feedback_event"}}), 5);
  EXPECT_EQ(again.Get(runs, {{"trigger", "request"}, {"outcome", "ok"}}), 1);
}

TEST_F(MetricsTest, ApplyLagCountsUnappliedRecordsAndTheAgeOfTheOldest) {
  StartServer(/*apply_themes=*/false);
  std::vector<v1::IngestRequest> records;
  for (int i = 1; i <= 3; ++i) records.push_back(testing::Feedback(i));
  ASSERT_EQ(testing::StreamAll(server_->address(), records).acks.size(), 3u);
  Scrape m = ScrapeMetrics();
  const Labels initiative = {{"initiative", kInitiative}};
  EXPECT_EQ(m.Get("fieldloop_apply_lag_records", initiative), 3);
  EXPECT_EQ(m.Get("fieldloop_apply_lag_seconds", initiative), 0);
  EXPECT_FALSE(m.Find("fieldloop_live_themes", initiative).has_value());  // No theme state kept.

  clock_.Set(start_ + absl::Seconds(90));
  m = ScrapeMetrics();
  EXPECT_EQ(m.Get("fieldloop_apply_lag_records", initiative), 3);
  EXPECT_EQ(m.Get("fieldloop_apply_lag_seconds", initiative), 90);

  // Materializing needs theme state: a failed run, counted as one.
  EXPECT_EQ(Materialize().error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  m = ScrapeMetrics();
  EXPECT_EQ(
      m.Get("fieldloop_materializations_total", {{"trigger", "request"}, {"outcome", "error"}}), 1);
  EXPECT_EQ(m.Get("fieldloop_materialization_duration_seconds_count"), 1);

  // A restart still counts what was stored before it, waiting since the start.
  server_.reset();
  StartServer(/*apply_themes=*/false);
  clock_.Set(start_ + absl::Seconds(120));
  m = ScrapeMetrics();
  EXPECT_EQ(m.Get("fieldloop_apply_lag_records", initiative), 3);
  EXPECT_EQ(m.Get("fieldloop_apply_lag_seconds", initiative), 30);

  // Applied at last: no lag.
  server_.reset();
  StartServer(/*apply_themes=*/true);
  ASSERT_TRUE(WaitApplied().ok());
  m = ScrapeMetrics();
  EXPECT_EQ(m.Get("fieldloop_apply_lag_records", initiative), 0);
  EXPECT_EQ(m.Get("fieldloop_apply_lag_seconds", initiative), 0);
  EXPECT_EQ(m.Get("fieldloop_live_themes", initiative),
            server_->applier().Summaries(kInitiative).size());
}

TEST_F(MetricsTest, RocksDbFiguresComeFromTheStore) {
  StartServer();
  Scrape empty = ScrapeMetrics();
  EXPECT_EQ(empty.Get("fieldloop_rocksdb_sst_files_size_bytes"), 0);  // All in the memtable.
  EXPECT_EQ(empty.Get("fieldloop_rocksdb_write_stall_seconds_total"), 0);
  EXPECT_EQ(empty.Get("fieldloop_rocksdb_writes_stopped"), 0);
  std::vector<v1::IngestRequest> records;
  for (int i = 0; i < 200; ++i) records.push_back(testing::Feedback(i));
  ASSERT_EQ(testing::StreamAll(server_->address(), records).acks.size(), records.size());
  // A restart replays the write-ahead log into the memtables (no flush at open: storage.md,
  // "Crash loop"); a checkpoint of the stopped store flushes them into SST files.
  server_.reset();
  {
    auto store = storage::Store::Open(dir_.Sub("data"), {});
    ASSERT_TRUE(store.ok()) << store.status();
    ASSERT_TRUE((*store)->Checkpoint(dir_.Sub("flushed")).ok());
  }
  StartServer();
  Scrape m = ScrapeMetrics();
  EXPECT_GT(m.Get("fieldloop_rocksdb_sst_files_size_bytes"), 1000);
  EXPECT_GT(m.Get("fieldloop_rocksdb_live_data_size_bytes"), 0);
  EXPECT_EQ(m.Get("fieldloop_rocksdb_writes_stopped"), 0);
  const std::uintmax_t on_disk = [&] {
    std::uintmax_t total = 0;
    for (const auto& e : std::filesystem::directory_iterator(dir_.Sub("data"))) {
      if (e.path().extension() == ".sst") total += e.file_size();
    }
    return total;
  }();
  EXPECT_EQ(m.Get("fieldloop_rocksdb_sst_files_size_bytes"), on_disk);
  // The replayed log sits in the memtables and the start read blocks through the cache. (How
  // the parts stay bounded as data grows: store_test, MemtablesStayWithinTheirBudget...)
  EXPECT_GT(m.Get("fieldloop_rocksdb_memory_bytes", Labels{{"part", "memtables"}}), 0);
  EXPECT_TRUE(
      m.Find("fieldloop_rocksdb_memory_bytes", Labels{{"part", "table_readers"}}).has_value());
  EXPECT_GT(m.Get("fieldloop_rocksdb_memory_bytes", Labels{{"part", "block_cache"}}), 0);
  // The allocator's figures: the server holds at least what RocksDB's memtables hold (not so
  // when the figures were not those of the allocator in use).
  EXPECT_GE(m.Get("fieldloop_heap_bytes", Labels{{"part", "allocated"}}),
            m.Get("fieldloop_rocksdb_memory_bytes", Labels{{"part", "memtables"}}));
  EXPECT_TRUE(m.Find("fieldloop_heap_bytes", Labels{{"part", "resident"}}).has_value());
}

TEST_F(MetricsTest, NonLoopbackAddressesAreRefusedAtStart) {
  for (const std::string listen :
       {"0.0.0.0:0", "[::]:0", ":9187", "10.1.2.3:9187", "example.com:9187"}) {
    services::ServerOptions options;
    options.listen = "127.0.0.1:0";
    options.data_dir = dir_.Sub("data");
    options.metrics_listen = listen;
    auto server = services::FieldloopServer::Start(options);
    ASSERT_FALSE(server.ok()) << listen;
    EXPECT_EQ(server.status().code(), absl::StatusCode::kInvalidArgument) << listen;
    EXPECT_THAT(server.status().message(), HasSubstr("not a loopback address")) << listen;
    EXPECT_THAT(server.status().message(), HasSubstr(listen));
  }
  EXPECT_FALSE(std::filesystem::exists(dir_.Sub("data")));  // Refused before opening anything.
}

TEST(ParseMetricsListen, AcceptsLoopbackFormsAndRefusesTheRest) {
  const std::vector<std::pair<std::string, std::pair<std::string, int>>> good = {
      {"9187", {"127.0.0.1", 9187}},           {"0", {"127.0.0.1", 0}},
      {"127.0.0.1:9187", {"127.0.0.1", 9187}}, {"localhost:0", {"127.0.0.1", 0}},
      {"[::1]:9187", {"::1", 9187}},
  };
  for (const auto& [listen, want] : good) {
    auto endpoint = services::ParseMetricsListen(listen);
    ASSERT_TRUE(endpoint.ok()) << listen << ": " << endpoint.status();
    EXPECT_EQ(endpoint->host, want.first) << listen;
    EXPECT_EQ(endpoint->port, want.second) << listen;
  }
  for (const std::string bad :
       {"", "0.0.0.0:9187", "[::]:9187", "::1:9187", "127.0.0.2:9187", "localhost",
        "127.0.0.1:", "127.0.0.1:65536", "127.0.0.1:-1", "127.0.0.1:http", "[::1]9187", "[::1"}) {
    auto endpoint = services::ParseMetricsListen(bad);
    EXPECT_FALSE(endpoint.ok()) << "'" << bad << "' was accepted";
    EXPECT_EQ(endpoint.status().code(), absl::StatusCode::kInvalidArgument) << bad;
  }
}

TEST_F(MetricsTest, BarePortAndLocalhostBindLoopbackOnly) {
  for (const std::string listen : {"0", "localhost:0"}) {
    StartServer(/*apply_themes=*/true, listen);
    const int port = server_->metrics_port();
    ASSERT_GT(port, 0) << listen;
    EXPECT_EQ(server_->metrics_address(), absl::StrCat("127.0.0.1:", port));
    const std::multimap<int, std::string> listening = ListeningPorts();
    const auto bound = listening.equal_range(port);
    ASSERT_NE(bound.first, bound.second) << listen << ": nothing listens on " << port;
    for (auto it = bound.first; it != bound.second; ++it) {
      EXPECT_EQ(it->second, "0100007F") << listen << " bound a non-loopback address";
    }
    std::optional<testing::HttpResponse> r = testing::HttpGet(port, "/metrics");
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->status, 200);
    server_.reset();
  }
}

TEST_F(MetricsTest, MetricsOffOpensNoPortAndShutdownClosesIt) {
  const auto before = ListeningPorts();
  StartServer(/*apply_themes=*/true, /*metrics_listen=*/"");
  EXPECT_EQ(server_->metrics(), nullptr);
  EXPECT_EQ(server_->metrics_port(), 0);
  EXPECT_EQ(server_->metrics_address(), "");
  std::set<int> opened;
  for (const auto& [port, address] : ListeningPorts()) {
    if (!before.count(port)) opened.insert(port);
  }
  EXPECT_THAT(opened, ::testing::ElementsAre(server_->port()));  // gRPC's only.
  server_.reset();

  StartServer();
  const int port = server_->metrics_port();
  EXPECT_TRUE(ListeningPorts().count(port));
  ASSERT_TRUE(testing::HttpGet(port, "/metrics").has_value());
  const absl::Time start = absl::Now();
  server_->Shutdown();
  // Not a performance figure but the shutdown contract: the HTTP listener must not add its
  // 2 s poll interval to every stop.
  EXPECT_LT(absl::Now() - start, absl::Seconds(1));
  EXPECT_FALSE(ListeningPorts().count(port));
  EXPECT_FALSE(testing::HttpGet(port, "/metrics").has_value());
}

TEST_F(MetricsTest, PortInUseFailsTheStart) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(listen(fd, 1), 0);
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  const int taken = ntohs(addr.sin_port);
  services::ServerOptions options;
  options.listen = "127.0.0.1:0";
  options.data_dir = dir_.Sub("data");
  options.metrics_listen = absl::StrCat("127.0.0.1:", taken);
  auto server = services::FieldloopServer::Start(options);
  close(fd);
  ASSERT_FALSE(server.ok());
  EXPECT_EQ(server.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(server.status().message(), HasSubstr(absl::StrCat("127.0.0.1:", taken)));
}

TEST(FieldloopdMetrics, StartupLineNamesThePortAndNonLoopbackIsRefused) {
  testing::TempDir dir;
  std::string address;
  auto daemon = testing::StartDaemon(dir.Sub("data"), &address, {"--metrics_listen=127.0.0.1:0"});
  ASSERT_NE(daemon, nullptr);
  std::optional<std::string> line = daemon->WaitForLine("metrics on ");
  ASSERT_TRUE(line.has_value());
  const std::string prefix = "fieldloopd: metrics on http://127.0.0.1:";
  ASSERT_EQ(line->rfind(prefix, 0), 0u) << *line;
  int port = 0;
  ASSERT_TRUE(absl::SimpleAtoi(
      line->substr(prefix.size(), line->find('/', prefix.size()) - prefix.size()), &port))
      << *line;
  ASSERT_EQ(testing::StreamAll(address, {testing::Feedback(1)}).acks.size(), 1u);
  std::optional<testing::HttpResponse> r = testing::HttpGet(port, "/metrics");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(Scrape(r->body).Get("fieldloop_ingest_records_acked_total",
                                {{"kind", "feedback_event"}, {"status", "accepted"}}),
            1);
  daemon->Signal(SIGTERM);
  EXPECT_EQ(daemon->Wait(), 0);

  testing::Subprocess refused({testing::Runfile("services/fieldloopd"), "--listen=127.0.0.1:0",
                               "--data_dir=" + dir.Sub("data2"), "--metrics_listen=0.0.0.0:9187"});
  const std::string out = refused.DrainOutput();
  EXPECT_EQ(refused.Wait(), 1) << out;
  EXPECT_THAT(out, HasSubstr("--metrics_listen='0.0.0.0:9187' is not a loopback address"));
  EXPECT_THAT(out, ::testing::Not(HasSubstr("listening on")));
}

}  // namespace
}  // namespace fieldloop
