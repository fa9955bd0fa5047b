// Load benchmark: a fieldloopd child process on loopback under everything at once. 16
// producer streams (Ingest.Stream) write generated feedback for 4 initiatives while reading
// their acks, 4 watchers read Themes.WatchThemes, one client calls Themes.ListThemes in a
// loop and one calls Board.Materialize for each initiative every few seconds. Reports
// throughput, ack latency, ListThemes and Materialize latency, watcher events, the server's
// RSS every --rss_every acked records and at the end (after the theme applier has caught
// up), its peak RSS and the errors seen; exits 1 when there were any.
//
// The server runs as its own process so that its RSS (/proc/<pid>/status) is the server's
// alone: an operator's fieldloopd, not the benchmark's clients and their bookkeeping.
//
// Not a test: build with -c opt and run through ./scripts/bench. Keys of --json are listed
// in docs/benchmarks.md.
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "grpcpp/grpcpp.h"
#include "proto/fieldloop/v1/board.grpc.pb.h"
#include "proto/fieldloop/v1/ingest.grpc.pb.h"
#include "proto/fieldloop/v1/themes.grpc.pb.h"
#include "tests/testing/http_get.h"
#include "tests/testing/temp_dir.h"

ABSL_FLAG(int64_t, records, 1000000, "Records to ingest in total, split over the producers.");
ABSL_FLAG(int, producers, 16, "Concurrent Ingest.Stream producers.");
ABSL_FLAG(int, watchers, 4, "Themes.WatchThemes watchers (one initiative each, round robin).");
ABSL_FLAG(int, initiatives, 4, "Initiatives the records are spread over.");
ABSL_FLAG(int, window, 256,
          "Unacked records a producer keeps in flight at most (as a real producer would); the "
          "ack latency includes the queueing this allows.");
ABSL_FLAG(double, rate, 0,
          "Records per second offered in total, paced evenly over the producers; 0: as fast as "
          "--window lets them (saturation).");
ABSL_FLAG(double, materialize_every_s, 5,
          "Seconds between two rounds of Board.Materialize (one call per initiative).");
ABSL_FLAG(int, list_pause_ms, 100,
          "Pause between two Themes.ListThemes calls (a dashboard polling); 0: back to back.");
ABSL_FLAG(int64_t, rss_every, 1000000,
          "Sample the server's RSS each time this many more records are acked (and always at the "
          "end).");
ABSL_FLAG(double, progress_s, 15, "Seconds between progress lines on stderr; 0: none.");
ABSL_FLAG(std::string, fieldloopd, "",
          "Path of the fieldloopd binary. Empty: the runfile next to this binary.");
ABSL_FLAG(std::string, server_flags, "",
          "Extra flags for fieldloopd, separated by spaces (e.g. \"--max_apply_backlog=0\" "
          "to compare with theme backpressure off).");
ABSL_FLAG(bool, json, false, "Print one JSON object instead of a table.");
ABSL_FLAG(int, runs, 1,
          "Accepted so that `./scripts/bench --runs=N` works; the load runs once whatever it is.");

namespace {

using Clock = std::chrono::steady_clock;

double Ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

// Latencies in constant memory: 64 buckets per power of two of microseconds (about 1%
// relative error), so five million acks cost the client nothing that grows.
class LatencyHistogram {
 public:
  void Add(double ms) {
    const double us = std::max(ms * 1000.0, 1.0);
    const int b = std::min(kBuckets - 1, static_cast<int>(std::log2(us) * kPerOctave));
    ++counts_[b];
    ++total_;
    max_ms_ = std::max(max_ms_, ms);
  }
  void Merge(const LatencyHistogram& o) {
    for (int i = 0; i < kBuckets; ++i) counts_[i] += o.counts_[i];
    total_ += o.total_;
    max_ms_ = std::max(max_ms_, o.max_ms_);
  }
  // The upper edge of the bucket holding the q-quantile, in milliseconds; 0 when empty.
  double Quantile(double q) const {
    if (total_ == 0) return 0;
    const int64_t rank = static_cast<int64_t>(std::ceil(q * total_));
    int64_t seen = 0;
    for (int i = 0; i < kBuckets; ++i) {
      seen += counts_[i];
      if (seen >= rank) return std::min(max_ms_, std::exp2((i + 1.0) / kPerOctave) / 1000.0);
    }
    return max_ms_;
  }
  double max_ms() const { return max_ms_; }
  int64_t count() const { return total_; }

 private:
  static constexpr int kPerOctave = 64;
  static constexpr int kBuckets = 40 * kPerOctave;  // Up to 2^40 us.
  std::array<int64_t, kBuckets> counts_{};
  int64_t total_ = 0;
  double max_ms_ = 0;
};

double Percentile(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  const size_t k = std::min(v.size() - 1, static_cast<size_t>(q * v.size()));
  std::nth_element(v.begin(), v.begin() + k, v.end());
  return v[k];
}

// Feedback as reps write it: an opener, one of a dozen planted topics in one of its
// phrasings, often an account name and a competitor, and a closer. Account names come from
// a pool that grows with the square root of the records written (new customers keep
// appearing, as in real data), so the term vocabulary keeps growing slowly.
class FeedbackGenerator {
 public:
  explicit FeedbackGenerator(uint64_t seed) : rng_(seed) {}

  // The text of global record number `n`.
  std::string Text(int64_t n) {
    static const std::vector<std::string> kOpeners = {
        "Buyer said",
        "On the call the VP of sales mentioned",
        "Champion told us",
        "Prospect complained that",
        "During discovery the CFO noted",
        "Ride-along: the rep heard that",
        "In the QBR the customer raised that",
        "Procurement pointed out that",
        "Economic buyer flagged that",
        "Follow-up email says",
    };
    static const std::vector<std::vector<std::string>> kTopics = {
        {"pricing is {pct}% higher than {comp}", "the per-seat price is too steep next to {comp}",
         "budget was cut and they want a deeper discount",
         "{comp} quoted a cheaper bundle for the same seats"},
        {"the Salesforce integration does not sync custom fields",
         "they need a native HubSpot connector before signing",
         "API rate limits broke their CRM sync twice this month",
         "the integration drops activities when the CRM sync retries"},
        {"the security review wants our SOC 2 report and pen test summary",
         "infosec is blocked on SSO and SCIM provisioning",
         "EU data residency is a hard requirement for legal",
         "their security questionnaire asks about encryption at rest"},
        {"onboarding took {weeks} weeks and new reps were still lost",
         "the implementation timeline is too slow for their launch",
         "new hires could not find the onboarding checklist",
         "admin setup during onboarding needed three support calls"},
        {"dashboards lack pipeline forecasting by segment",
         "they cannot export forecast reports to Excel",
         "managers want a weekly pipeline report emailed to them",
         "the reporting module misses win rate by competitor"},
        {"the mobile app crashes when offline in the field",
         "reps want to log call notes from the mobile app",
         "mobile sync is slow on poor connections"},
        {"{comp} has conversation intelligence built in",
         "{comp} demoed automatic call summaries we do not have",
         "they are comparing our call recording against {comp}"},
        {"support tickets take days to get a first answer",
         "nobody answers the support chat outside US hours",
         "they were escalated twice before support replied"},
        {"legal pushed back on auto-renewal terms in the contract",
         "they want monthly billing instead of an annual contract",
         "the contract liability cap is a blocker for procurement"},
        {"they asked whether the AI summaries hallucinate customer facts",
         "the AI email drafts sound generic to their buyers",
         "they want to turn off AI features for compliance"},
        {"the app is slow to load large accounts with many contacts",
         "search times out on accounts with thousands of opportunities",
         "page loads got slower after the last release"},
        {"reps need a battlecard against {comp}",
         "the team asked for objection handling training on {comp}",
         "there is no competitive one-pager for {comp} in the content hub"},
    };
    static const std::vector<std::string> kCompetitors = {
        "Acme CRM", "Gong", "Clari", "Outreach", "Salesloft", "Chorus", "Highspot", "Seismic"};
    static const std::vector<std::string> kClosers = {
        "",
        "",
        "Need a one-pager.",
        "Rep had no answer.",
        "Asked for a follow-up deck.",
        "Deal slipped to next quarter.",
        "They will decide by end of month.",
        "Manager wants talking points.",
    };
    // A topic per record, skewed: the first topics are heard more often.
    const int topic = static_cast<int>(kTopics.size() * std::pow(Uniform(), 1.6)) %
                      static_cast<int>(kTopics.size());
    const auto& phrasings = kTopics[topic];
    std::string phrase = phrasings[rng_() % phrasings.size()];
    Replace(phrase, "{comp}", kCompetitors[rng_() % kCompetitors.size()]);
    Replace(phrase, "{pct}", std::to_string(10 + rng_() % 40));
    Replace(phrase, "{weeks}", std::to_string(3 + rng_() % 10));
    std::string text = kOpeners[rng_() % kOpeners.size()];
    if (Uniform() < 0.7) {
      // Account pool: 100 + 3 sqrt(n) names, the older ones mentioned more often.
      const double pool = 100 + 3 * std::sqrt(static_cast<double>(n));
      const int64_t account = static_cast<int64_t>(pool * std::pow(Uniform(), 2));
      absl::StrAppend(&text, " at ", AccountName(account), ",");
    }
    absl::StrAppend(&text, " ", phrase, ".");
    const std::string& closer = kClosers[rng_() % kClosers.size()];
    if (!closer.empty()) absl::StrAppend(&text, " ", closer);
    return text;
  }

  double Uniform() { return std::uniform_real_distribution<double>(0, 1)(rng_); }
  uint64_t Next() { return rng_(); }

 private:
  // A pronounceable made-up company name for `id`, distinct per id.
  static std::string AccountName(int64_t id) {
    static const char* const kSyllables[] = {"ka",  "lo",  "mi",  "ne",  "ru",  "sa",  "te",
                                             "vo",  "zi",  "bra", "dex", "fen", "gor", "hul",
                                             "jin", "kor", "lum", "mar", "nix", "pel"};
    std::string name;
    int64_t v = id;
    do {
      name += kSyllables[v % 20];
      v /= 20;
    } while (v > 0);
    if (name.size() < 5) name += "tek";
    name[0] = static_cast<char>(name[0] - 'a' + 'A');
    return name;
  }

  static void Replace(std::string& s, const std::string& from, const std::string& to) {
    const size_t at = s.find(from);
    if (at != std::string::npos) s.replace(at, from.size(), to);
  }

  std::mt19937_64 rng_;
};

std::string InitiativeName(int i) {
  static const char* const kNames[] = {"q3-push", "emea-expansion", "smb-renewals", "ai-launch"};
  return i < 4 ? kNames[i] : absl::StrCat("initiative-", i);
}

// The record of global number `n` written by producer `producer`.
fieldloop::v1::IngestRequest MakeRecord(int64_t n, int producer, int initiatives,
                                        FeedbackGenerator& gen) {
  static const fieldloop::v1::Source kSources[] = {
      fieldloop::v1::SOURCE_CALL, fieldloop::v1::SOURCE_CALL, fieldloop::v1::SOURCE_RIDE_ALONG,
      fieldloop::v1::SOURCE_ENABLEMENT_SESSION, fieldloop::v1::SOURCE_OTHER};
  static const char* const kRegions[] = {"NA", "NA", "EMEA", "APAC", "LATAM"};
  static const char* const kSegments[] = {"SMB", "MidMarket", "Enterprise"};
  fieldloop::v1::IngestRequest r;
  auto* e = r.mutable_feedback_event();
  e->set_id(absl::StrCat("load-", producer, "-", n));
  e->set_initiative(InitiativeName(static_cast<int>(n % initiatives)));
  e->set_source(kSources[gen.Next() % 5]);
  e->set_rep_id(absl::StrCat("rep-", gen.Next() % 300));
  e->set_region(kRegions[gen.Next() % 5]);
  e->set_segment(kSegments[gen.Next() % 3]);
  // Spread over 2026-01-01 .. 2026-11-27, later dates more likely (recent feedback).
  const int64_t day = static_cast<int64_t>(330 * std::sqrt(gen.Uniform()));
  e->mutable_occurred_at()->set_seconds(1767225600 + day * 86400 + gen.Next() % 86400);
  e->set_text(gen.Text(n));
  return r;
}

// fieldloopd as a child process, its stdout and stderr into a log file.
class ServerProcess {
 public:
  // Starts `binary` and waits for its "listening on" line; address() stays empty on failure.
  ServerProcess(const std::string& binary, const std::string& data_dir,
                const std::string& output_root, const std::string& log_path)
      : log_path_(log_path) {
    pid_ = fork();
    if (pid_ == 0) {
      prctl(PR_SET_PDEATHSIG, SIGTERM);  // Never outlive the benchmark.
      FILE* log = std::fopen(log_path.c_str(), "w");
      if (log == nullptr) _exit(127);
      dup2(fileno(log), 1);
      dup2(fileno(log), 2);
      std::vector<std::string> argv = {binary,
                                       "--listen=127.0.0.1:0",
                                       "--data_dir=" + data_dir,
                                       "--output_root=" + output_root,
                                       "--log_level=warning",
                                       "--metrics_listen=127.0.0.1:0"};
      for (absl::string_view extra :
           absl::StrSplit(absl::GetFlag(FLAGS_server_flags), ' ', absl::SkipEmpty())) {
        argv.emplace_back(extra);
      }
      std::vector<char*> args;
      for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
      args.push_back(nullptr);
      execv(args[0], args.data());
      _exit(127);
    }
    const auto deadline = Clock::now() + std::chrono::seconds(60);
    while (Clock::now() < deadline) {
      std::ifstream in(log_path);
      std::string line;
      while (std::getline(in, line)) {
        if (const size_t m = line.find("metrics on http://127.0.0.1:"); m != std::string::npos) {
          metrics_port_ = std::atoi(line.c_str() + m + 28);
        }
        const size_t at = line.find("listening on ");
        if (at != std::string::npos) {
          const size_t from = at + 13;
          address_ = line.substr(from, line.find(' ', from) - from);
        }
      }
      // fieldloopd prints (and flushes) its metrics line with the listening line.
      if (!address_.empty()) return;
      int status;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = 0;
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  ~ServerProcess() { Stop(); }

  // Empty when the server did not come up.
  const std::string& address() const { return address_; }
  pid_t pid() const { return pid_; }
  // The port of the server's metrics endpoint; 0 when not seen in its log.
  int metrics_port() const { return metrics_port_; }

  // SIGTERM, then waits; returns the exit status (128+signal when killed), -1 if not running.
  int Stop() {
    if (pid_ <= 0) return -1;
    kill(pid_, SIGTERM);
    int raw = 0;
    waitpid(pid_, &raw, 0);
    pid_ = 0;
    return WIFEXITED(raw) ? WEXITSTATUS(raw) : 128 + WTERMSIG(raw);
  }

  // The last `lines` lines of the server's log.
  std::string LogTail(int lines) const {
    std::ifstream in(log_path_);
    std::vector<std::string> all;
    std::string line;
    while (std::getline(in, line)) all.push_back(line);
    const size_t from = all.size() > static_cast<size_t>(lines) ? all.size() - lines : 0;
    std::string out;
    for (size_t i = from; i < all.size(); ++i) absl::StrAppend(&out, all[i], "\n");
    return out;
  }

 private:
  std::string log_path_;
  pid_t pid_ = 0;
  std::string address_;
  int metrics_port_ = 0;
};

// Where the server's memory is, from its metrics endpoint: RocksDB's parts and the live
// themes of every initiative (the theme state held in memory). -1 when not scraped.
struct MemoryParts {
  double memtables_mb = -1, table_readers_mb = -1, block_cache_mb = -1;
  int64_t live_themes = -1;
};

MemoryParts ScrapeMemory(int metrics_port) {
  MemoryParts parts;
  if (metrics_port <= 0) return parts;
  const std::optional<fieldloop::testing::HttpResponse> response =
      fieldloop::testing::HttpGet(metrics_port, "/metrics");
  if (!response.has_value() || response->status != 200) return parts;
  std::istringstream in(response->body);
  std::string line;
  while (std::getline(in, line)) {
    const size_t space = line.rfind(' ');
    if (line.empty() || line[0] == '#' || space == std::string::npos) continue;
    const double value = std::atof(line.c_str() + space + 1);
    const std::string name = line.substr(0, space);
    if (name == "fieldloop_rocksdb_memory_bytes{part=\"memtables\"}") {
      parts.memtables_mb = value / (1 << 20);
    } else if (name == "fieldloop_rocksdb_memory_bytes{part=\"table_readers\"}") {
      parts.table_readers_mb = value / (1 << 20);
    } else if (name == "fieldloop_rocksdb_memory_bytes{part=\"block_cache\"}") {
      parts.block_cache_mb = value / (1 << 20);
    } else if (name.rfind("fieldloop_live_themes{", 0) == 0) {
      parts.live_themes = std::max<int64_t>(parts.live_themes, 0) + static_cast<int64_t>(value);
    }
  }
  return parts;
}

std::string DescribeMemory(const MemoryParts& m) {
  if (m.memtables_mb < 0) return "";
  return absl::StrFormat(" (memtables %.0f, table readers %.0f, block cache %.0f MiB; %lld themes)",
                         m.memtables_mb, m.table_readers_mb, m.block_cache_mb,
                         static_cast<long long>(m.live_themes));
}

// VmRSS and VmHWM of `pid` ("self" for this process), in MiB; -1 when unreadable.
struct Rss {
  double rss_mb = -1;
  double hwm_mb = -1;
};
Rss ReadRss(const std::string& pid) {
  std::ifstream in("/proc/" + pid + "/status");
  std::string line;
  Rss r;
  while (std::getline(in, line)) {
    long kb = 0;
    if (std::sscanf(line.c_str(), "VmRSS: %ld kB", &kb) == 1) r.rss_mb = kb / 1024.0;
    if (std::sscanf(line.c_str(), "VmHWM: %ld kB", &kb) == 1) r.hwm_mb = kb / 1024.0;
  }
  return r;
}

std::string DefaultFieldloopd(const char* argv0) {
  std::vector<std::string> candidates;
  char exe[4096];
  const ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n > 0) candidates.push_back(std::string(exe, n) + ".runfiles/fieldloop/services/fieldloopd");
  candidates.push_back(std::string(argv0) + ".runfiles/fieldloop/services/fieldloopd");
  if (const char* dir = std::getenv("RUNFILES_DIR")) {
    candidates.push_back(std::string(dir) + "/fieldloop/services/fieldloopd");
  }
  candidates.push_back("services/fieldloopd");  // bazel run: the runfiles tree is the cwd.
  for (const std::string& c : candidates) {
    if (access(c.c_str(), X_OK) == 0) return c;
  }
  return candidates.front();
}

// Errors of every kind, counted, with the first message of each kept for the report.
class Errors {
 public:
  void Add(const std::string& what, const std::string& message) {
    std::lock_guard<std::mutex> lock(mu_);
    ++total_;
    if (examples_.size() < 10) examples_.push_back(what + ": " + message);
  }
  int64_t total() const {
    std::lock_guard<std::mutex> lock(mu_);
    return total_;
  }
  std::vector<std::string> examples() const {
    std::lock_guard<std::mutex> lock(mu_);
    return examples_;
  }

 private:
  mutable std::mutex mu_;
  int64_t total_ = 0;
  std::vector<std::string> examples_;
};

// One producer: its own Ingest.Stream; a writer thread keeps at most --window records in
// flight while this thread reads acks and times each one from its Write.
void Produce(const std::string& address, int producer, int producers, int64_t count,
             int initiatives, int window, double rate, std::atomic<int64_t>& acked,
             LatencyHistogram& latency, Errors& errors) {
  auto stub = fieldloop::v1::Ingest::NewStub(
      grpc::CreateChannel(address, grpc::InsecureChannelCredentials()));
  grpc::ClientContext context;
  auto stream = stub->Stream(&context);
  std::mutex mu;
  std::condition_variable room;
  int64_t sent = 0, done = 0;  // Guarded by mu.
  std::vector<Clock::time_point> sent_at(window);
  std::thread writer([&] {
    FeedbackGenerator gen(0x10adbe7c0000ULL + producer);
    const auto start = Clock::now();
    for (int64_t i = 0; i < count; ++i) {
      // Paced: record i of this producer is due at i / (rate / producers) seconds, and its
      // latency counts from then (a late write is the server's delay too).
      std::optional<Clock::time_point> due;
      if (rate > 0) {
        due = start + std::chrono::duration_cast<Clock::duration>(
                          std::chrono::duration<double>(i * producers / rate));
        std::this_thread::sleep_until(*due);
      }
      const int64_t n = i * producers + producer;  // Global order: vocabulary grows with time.
      const fieldloop::v1::IngestRequest request = MakeRecord(n, producer, initiatives, gen);
      {
        std::unique_lock<std::mutex> lock(mu);
        room.wait(lock, [&] { return sent - done < window; });
        sent_at[sent % window] = due.value_or(Clock::now());
        ++sent;
      }
      if (!stream->Write(request)) break;
    }
    stream->WritesDone();
  });
  fieldloop::v1::IngestAck ack;
  int64_t expected = 0;
  while (stream->Read(&ack)) {
    const auto now = Clock::now();
    Clock::time_point at;
    {
      std::lock_guard<std::mutex> lock(mu);
      at = sent_at[ack.request_index() % window];
      ++done;
    }
    room.notify_one();
    if (static_cast<int64_t>(ack.request_index()) != expected) {
      errors.Add("ack order", absl::StrCat("producer ", producer, " got ack ", ack.request_index(),
                                           " expecting ", expected));
    }
    ++expected;
    latency.Add(Ms(now - at));
    if (ack.status() != fieldloop::v1::ACK_STATUS_ACCEPTED) {
      errors.Add("ack", absl::StrCat("producer ", producer, " record ", ack.record_id(), " status ",
                                     ack.status(), ": ", ack.message()));
    }
    acked.fetch_add(1, std::memory_order_relaxed);
  }
  {
    // A stream that ended early leaves the writer waiting for room: release it.
    std::lock_guard<std::mutex> lock(mu);
    done = sent + window;
  }
  room.notify_one();
  writer.join();
  const grpc::Status status = stream->Finish();
  if (!status.ok()) {
    errors.Add("Ingest.Stream", absl::StrCat("producer ", producer, ": ", status.error_message()));
  }
  if (expected != count) {
    errors.Add("lost acks", absl::StrCat("producer ", producer, ": ", expected, " of ", count));
  }
}

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  signal(SIGPIPE, SIG_IGN);
  const int64_t records = absl::GetFlag(FLAGS_records);
  const int producers = absl::GetFlag(FLAGS_producers);
  const int watchers = absl::GetFlag(FLAGS_watchers);
  const int initiatives = absl::GetFlag(FLAGS_initiatives);
  const int window = std::max(1, absl::GetFlag(FLAGS_window));
  const int64_t rss_every = absl::GetFlag(FLAGS_rss_every);
  const bool json = absl::GetFlag(FLAGS_json);

  fieldloop::testing::TempDir dir;
  std::string binary = absl::GetFlag(FLAGS_fieldloopd);
  if (binary.empty()) binary = DefaultFieldloopd(argv[0]);
  ServerProcess server(binary, dir.Sub("data"), dir.Sub("out"), dir.Sub("fieldloopd.log"));
  if (server.address().empty()) {
    std::fprintf(stderr, "load_bench: %s did not start:\n%s", binary.c_str(),
                 server.LogTail(20).c_str());
    return 1;
  }
  const std::string pid = std::to_string(server.pid());
  const Rss rss_start = ReadRss(pid);
  Errors errors;
  std::atomic<int64_t> acked{0};
  std::atomic<bool> stop{false};

  // RSS of the server each time --rss_every more records are acked.
  std::mutex samples_mu;
  std::vector<std::pair<int64_t, double>> samples;  // (records acked, RSS MiB)
  std::vector<MemoryParts> sample_parts;            // Parallel to samples.
  std::thread sampler([&] {
    int64_t next = rss_every > 0 ? rss_every : INT64_MAX;
    while (!stop) {
      if (acked.load() >= next) {
        const Rss r = ReadRss(pid);
        const MemoryParts parts = ScrapeMemory(server.metrics_port());
        std::lock_guard<std::mutex> lock(samples_mu);
        samples.emplace_back(next, r.rss_mb);
        sample_parts.push_back(parts);
        next += rss_every;
        continue;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  });

  const auto start = Clock::now();
  std::vector<LatencyHistogram> latencies(producers);
  std::vector<std::thread> producer_threads;
  for (int p = 0; p < producers; ++p) {
    const int64_t count = records / producers + (p < records % producers ? 1 : 0);
    producer_threads.emplace_back([&, p, count] {
      Produce(server.address(), p, producers, count, initiatives, window, absl::GetFlag(FLAGS_rate),
              acked, latencies[p], errors);
    });
  }
  // Readers start once every initiative has records (before, NOT_FOUND is the right answer).
  const auto give_up = Clock::now() + std::chrono::seconds(60);
  while (acked.load() < std::min<int64_t>(records, 4 * initiatives * producers) &&
         Clock::now() < give_up) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }

  auto channel = grpc::CreateChannel(server.address(), grpc::InsecureChannelCredentials());
  std::atomic<bool> readers_stop{false};

  // Watchers: every event read is counted; a stream that ends before we cancel it is an error.
  std::atomic<int64_t> watch_events{0};
  std::vector<std::unique_ptr<grpc::ClientContext>> watch_contexts;
  for (int w = 0; w < watchers; ++w)
    watch_contexts.push_back(std::make_unique<grpc::ClientContext>());
  std::vector<std::thread> watcher_threads;
  for (int w = 0; w < watchers; ++w) {
    watcher_threads.emplace_back([&, w] {
      auto stub = fieldloop::v1::Themes::NewStub(channel);
      fieldloop::v1::WatchThemesRequest request;
      request.set_initiative(InitiativeName(w % initiatives));
      auto reader = stub->WatchThemes(watch_contexts[w].get(), request);
      fieldloop::v1::ThemeChange change;
      while (reader->Read(&change)) watch_events.fetch_add(1, std::memory_order_relaxed);
      const grpc::Status status = reader->Finish();
      if (!readers_stop) {
        errors.Add("WatchThemes", absl::StrCat("watcher ", w, " ended early: ", status.error_code(),
                                               " ", status.error_message()));
      }
    });
  }

  // ListThemes in a loop, over the initiatives in turn.
  std::vector<double> list_ms;
  std::thread lister([&] {
    auto stub = fieldloop::v1::Themes::NewStub(channel);
    for (int i = 0; !readers_stop; ++i) {
      grpc::ClientContext context;
      context.set_deadline(std::chrono::system_clock::now() + std::chrono::minutes(5));
      fieldloop::v1::ListThemesRequest request;
      request.set_initiative(InitiativeName(i % initiatives));
      fieldloop::v1::ListThemesResponse response;
      const auto t0 = Clock::now();
      const grpc::Status status = stub->ListThemes(&context, request, &response);
      list_ms.push_back(Ms(Clock::now() - t0));
      if (!status.ok()) {
        errors.Add("ListThemes", absl::StrCat(status.error_code(), " ", status.error_message()));
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(absl::GetFlag(FLAGS_list_pause_ms)));
    }
  });

  // Board.Materialize of each initiative, a round every --materialize_every_s.
  std::vector<double> materialize_ms;
  std::thread materializer([&] {
    auto stub = fieldloop::v1::Board::NewStub(channel);
    const auto period = std::chrono::duration<double>(absl::GetFlag(FLAGS_materialize_every_s));
    auto next = Clock::now();
    while (!readers_stop) {
      for (int i = 0; i < initiatives && !readers_stop; ++i) {
        grpc::ClientContext context;
        context.set_deadline(std::chrono::system_clock::now() + std::chrono::minutes(10));
        fieldloop::v1::MaterializeRequest request;
        request.set_initiative(InitiativeName(i));
        fieldloop::v1::MaterializeResponse response;
        const auto t0 = Clock::now();
        const grpc::Status status = stub->Materialize(&context, request, &response);
        materialize_ms.push_back(Ms(Clock::now() - t0));
        if (!status.ok()) {
          errors.Add("Materialize", absl::StrCat(request.initiative(), ": ", status.error_code(),
                                                 " ", status.error_message()));
        }
      }
      next += std::chrono::duration_cast<Clock::duration>(period);
      while (!readers_stop && Clock::now() < next) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
      if (Clock::now() > next) next = Clock::now();  // A slow round does not queue up rounds.
    }
  });

  std::thread progress([&] {
    const double every = absl::GetFlag(FLAGS_progress_s);
    if (every <= 0) return;
    auto next = Clock::now() +
                std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(every));
    int64_t last = 0;
    while (!stop) {
      if (Clock::now() < next) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        continue;
      }
      const int64_t now_acked = acked.load();
      const Rss r = ReadRss(pid);
      std::fprintf(stderr,
                   "load_bench: %.0fs acked %lld (%.0f/s last %.0fs) server RSS %.0f MiB "
                   "errors %lld\n",
                   std::chrono::duration<double>(Clock::now() - start).count(),
                   static_cast<long long>(now_acked), (now_acked - last) / every, every, r.rss_mb,
                   static_cast<long long>(errors.total()));
      last = now_acked;
      next += std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(every));
    }
  });

  for (auto& t : producer_threads) t.join();
  const double ingest_s = std::chrono::duration<double>(Clock::now() - start).count();

  // Let the theme applier catch up with everything acked, then sample the end state.
  auto ingest_stub = fieldloop::v1::Ingest::NewStub(channel);
  const auto drain_start = Clock::now();
  for (int i = 0; i < initiatives; ++i) {
    grpc::Status status;
    for (int attempt = 0; attempt < 20; ++attempt) {  // 30 s per attempt: 10 minutes.
      grpc::ClientContext context;
      fieldloop::v1::WaitAppliedRequest request;
      request.set_initiative(InitiativeName(i));
      request.set_timeout_ms(30000);
      fieldloop::v1::WaitAppliedResponse response;
      status = ingest_stub->WaitApplied(&context, request, &response);
      if (status.error_code() != grpc::StatusCode::DEADLINE_EXCEEDED) break;
    }
    if (!status.ok()) {
      errors.Add("WaitApplied", absl::StrCat(InitiativeName(i), ": ", status.error_code(), " ",
                                             status.error_message()));
    }
  }
  const double drain_s = std::chrono::duration<double>(Clock::now() - drain_start).count();
  // Live themes at the end, over every initiative (what the theme model holds).
  int64_t themes = 0;
  {
    auto stub = fieldloop::v1::Themes::NewStub(channel);
    for (int i = 0; i < initiatives; ++i) {
      grpc::ClientContext context;
      fieldloop::v1::ListThemesRequest request;
      request.set_initiative(InitiativeName(i));
      request.set_page_size(1);
      fieldloop::v1::ListThemesResponse response;
      const grpc::Status status = stub->ListThemes(&context, request, &response);
      if (status.ok()) themes += response.total();
    }
  }
  readers_stop = true;
  materializer.join();
  lister.join();
  for (auto& c : watch_contexts) c->TryCancel();
  for (auto& t : watcher_threads) t.join();
  const Rss rss_end = ReadRss(pid);
  const MemoryParts parts_end = ScrapeMemory(server.metrics_port());
  const Rss client = ReadRss("self");
  stop = true;
  sampler.join();
  progress.join();
  const int exit_status = server.Stop();
  if (exit_status != 0) {
    errors.Add("fieldloopd", absl::StrCat("exit status ", exit_status));
  }

  LatencyHistogram ack;
  for (const auto& l : latencies) ack.Merge(l);
  const int64_t total_acked = acked.load();
  const double records_per_s = total_acked / ingest_s;
  const double list_p50 = Percentile(list_ms, 0.5), list_p99 = Percentile(list_ms, 0.99);
  const double mat_p50 = Percentile(materialize_ms, 0.5);
  const double mat_max =
      materialize_ms.empty() ? 0 : *std::max_element(materialize_ms.begin(), materialize_ms.end());
  if (json) {
    std::vector<std::string> keys = {
        absl::StrCat("\"load_records\": ", total_acked),
        absl::StrCat("\"load_records_per_s\": ", static_cast<int64_t>(records_per_s)),
        absl::StrCat("\"load_ack_p50_ms\": ", ack.Quantile(0.5)),
        absl::StrCat("\"load_ack_p99_ms\": ", ack.Quantile(0.99)),
        absl::StrCat("\"load_ack_max_ms\": ", ack.max_ms()),
        absl::StrCat("\"load_apply_drain_s\": ", drain_s),
        absl::StrCat("\"load_list_themes_calls\": ", list_ms.size()),
        absl::StrCat("\"load_list_themes_p50_ms\": ", list_p50),
        absl::StrCat("\"load_list_themes_p99_ms\": ", list_p99),
        absl::StrCat("\"load_materializations\": ", materialize_ms.size()),
        absl::StrCat("\"load_materialize_p50_ms\": ", mat_p50),
        absl::StrCat("\"load_materialize_max_ms\": ", mat_max),
        absl::StrCat("\"load_watch_events\": ", watch_events.load()),
        absl::StrCat("\"load_themes_end\": ", themes),
        absl::StrCat("\"load_server_rss_start_mb\": ", rss_start.rss_mb),
        absl::StrCat("\"load_server_rss_end_mb\": ", rss_end.rss_mb),
        absl::StrCat("\"load_server_rss_peak_mb\": ", rss_end.hwm_mb),
        absl::StrCat("\"load_client_rss_mb\": ", client.rss_mb),
        absl::StrCat("\"load_errors\": ", errors.total()),
    };
    for (size_t i = 0; i < samples.size(); ++i) {
      const auto& [at, mb] = samples[i];
      keys.push_back(absl::StrCat("\"load_server_rss_at_", at, "_mb\": ", mb));
      keys.push_back(
          absl::StrCat("\"load_server_memtables_at_", at, "_mb\": ", sample_parts[i].memtables_mb));
      keys.push_back(absl::StrCat("\"load_server_table_readers_at_", at,
                                  "_mb\": ", sample_parts[i].table_readers_mb));
      keys.push_back(absl::StrCat("\"load_server_block_cache_at_", at,
                                  "_mb\": ", sample_parts[i].block_cache_mb));
    }
    std::printf("{%s}\n", absl::StrJoin(keys, ", ").c_str());
  } else {
    const double rate = absl::GetFlag(FLAGS_rate);
    std::printf(
        "load: %d producers (window %d, %s), %d watchers, ListThemes loop, Materialize "
        "every %.0fs, %d initiatives\n",
        producers, window,
        rate > 0 ? absl::StrCat("offered ", rate, " records/s").c_str() : "saturating", watchers,
        absl::GetFlag(FLAGS_materialize_every_s), initiatives);
    std::printf("  records acked         %lld in %.1fs: %.0f records/s\n",
                static_cast<long long>(total_acked), ingest_s, records_per_s);
    std::printf("  ack latency           p50 %.2f ms, p99 %.2f ms, max %.2f ms\n",
                ack.Quantile(0.5), ack.Quantile(0.99), ack.max_ms());
    std::printf("  applier caught up     %.1fs after the last ack\n", drain_s);
    std::printf("  ListThemes            %zu calls, p50 %.1f ms, p99 %.1f ms\n", list_ms.size(),
                list_p50, list_p99);
    std::printf("  Materialize           %zu calls, median %.1f ms, max %.1f ms\n",
                materialize_ms.size(), mat_p50, mat_max);
    std::printf("  WatchThemes events    %lld over %d watchers\n",
                static_cast<long long>(watch_events.load()), watchers);
    std::printf("  live themes at end    %lld over %d initiatives\n",
                static_cast<long long>(themes), initiatives);
    std::printf("  server RSS            start %.1f MiB, end %.1f MiB%s, peak %.1f MiB\n",
                rss_start.rss_mb, rss_end.rss_mb, DescribeMemory(parts_end).c_str(),
                rss_end.hwm_mb);
    for (size_t i = 0; i < samples.size(); ++i) {
      std::printf("    at %lld records     %.1f MiB%s\n", static_cast<long long>(samples[i].first),
                  samples[i].second, DescribeMemory(sample_parts[i]).c_str());
    }
    std::printf("  client RSS            %.1f MiB (this process)\n", client.rss_mb);
    std::printf("  errors                %lld\n", static_cast<long long>(errors.total()));
  }
  for (const std::string& e : errors.examples())
    std::fprintf(stderr, "load_bench: %s\n", e.c_str());
  if (errors.total() > 0) {
    std::fprintf(stderr, "load_bench: server log tail:\n%s", server.LogTail(20).c_str());
    return 1;
  }
  return 0;
}
