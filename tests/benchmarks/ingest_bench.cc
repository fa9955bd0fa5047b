// Ingest benchmark: streams records from a client over loopback into a FieldloopServer on a
// temp RocksDB and reports records/s and ack latency (write of a request to read of its
// ack) p50/p99. The client writes as fast as the stream lets it, so latency includes
// queueing at saturation. Configurations: sync_writes off and on, one stream and four
// concurrent streams (group commit shares an fsync among streams), and a "buffered" client
// that lets gRPC coalesce its writes as `fieldloop push` does. Each configuration runs --runs
// times on a fresh store; the figures are medians over runs.
//
// Not a test: build with -c opt and run through ./scripts/bench. Keys of --json are listed
// in docs/benchmarks.md.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "grpcpp/grpcpp.h"
#include "pipeline/labeled_texts.h"
#include "proto/fieldloop/v1/themes.grpc.pb.h"
#include "services/server.h"
#include "tests/testing/ingest_client.h"
#include "tests/testing/temp_dir.h"

ABSL_FLAG(int, records, 100000, "Records per run with sync_writes off (split over streams).");
ABSL_FLAG(int, sync_records, 20000, "Records per run with sync_writes on.");
ABSL_FLAG(int, runs, 3, "Runs per configuration; medians are reported.");
ABSL_FLAG(bool, json, false, "Print one JSON object instead of a table.");
ABSL_FLAG(bool, watchers_only, false,
          "Run only the stalled-watchers comparison (themes on, with and without watchers).");
ABSL_FLAG(std::string, texts, "../shared/datasets/tweets/data.jsonl",
          "JSON Lines file whose \"text\" fields become the feedback texts (real short texts "
          "make the clustering work realistic); synthetic texts when unreadable.");

namespace {

using Clock = std::chrono::steady_clock;

struct RunResult {
  double records_per_s = 0;
  double p50_ms = 0;
  double p99_ms = 0;
  double applied_per_s = 0;  // Records per second until theme state reflected them all.
};

// Non-empty "text" fields of --texts; empty when unreadable (synthetic texts are used).
std::vector<std::string> LoadTexts() {
  std::ifstream in(absl::GetFlag(FLAGS_texts));
  std::stringstream contents;
  contents << in.rdbuf();
  std::vector<std::string> texts;
  auto docs = fieldloop::pipeline::ParseLabeledTexts(contents.str(), /*require_label=*/false);
  if (docs.ok()) {
    for (auto& d : *docs) {
      if (!d.text.empty()) texts.push_back(std::move(d.text));
    }
  }
  return texts;
}

double Percentile(std::vector<double>& v, double q) {
  if (v.empty()) return 0;
  const size_t k = std::min(v.size() - 1, static_cast<size_t>(q * v.size()));
  std::nth_element(v.begin(), v.begin() + k, v.end());
  return v[k];
}

double Median(std::vector<double> v) { return Percentile(v, 0.5); }

RunResult RunOnce(bool sync, int streams, int records, bool buffered, bool themes,
                  const std::vector<std::string>& texts, int stalled_watchers = 0) {
  fieldloop::testing::TempDir dir;
  fieldloop::services::ServerOptions options;
  options.listen = "127.0.0.1:0";
  options.data_dir = dir.Sub("data");
  options.sync_writes = sync;
  options.apply_themes = themes;
  auto server = fieldloop::services::FieldloopServer::Start(options);
  if (!server.ok()) {
    std::fprintf(stderr, "cannot start server: %s\n",
                 std::string(server.status().message()).c_str());
    std::exit(1);
  }
  const int per_stream = records / streams;
  // Build the requests before timing.
  std::vector<std::vector<fieldloop::v1::IngestRequest>> requests(streams);
  for (int s = 0; s < streams; ++s) {
    for (int i = 0; i < per_stream; ++i) {
      const int n = s * per_stream + i;
      requests[s].push_back(fieldloop::testing::Feedback(n));
      if (!texts.empty()) {
        requests[s].back().mutable_feedback_event()->set_text(texts[n % texts.size()]);
      }
    }
  }
  // Watchers of the initiative's themes that never read an event: their streams fill up
  // while ingest runs (Themes.WatchThemes must not slow ingest down).
  auto themes_stub = fieldloop::v1::Themes::NewStub(
      grpc::CreateChannel((*server)->address(), grpc::InsecureChannelCredentials()));
  std::vector<std::unique_ptr<grpc::ClientContext>> watch_contexts;
  std::vector<std::unique_ptr<grpc::ClientReader<fieldloop::v1::ThemeChange>>> watches;
  for (int w = 0; w < stalled_watchers; ++w) {
    watch_contexts.push_back(std::make_unique<grpc::ClientContext>());
    fieldloop::v1::WatchThemesRequest request;
    request.set_initiative("q3-push");
    watches.push_back(themes_stub->WatchThemes(watch_contexts.back().get(), request));
  }
  std::vector<std::vector<double>> latencies(streams);
  std::vector<std::thread> threads;
  std::atomic<int> not_accepted{0};  // A benchmark of rejections would measure nothing.
  const auto start = Clock::now();
  for (int s = 0; s < streams; ++s) {
    threads.emplace_back([&, s] {
      auto stub = fieldloop::testing::IngestStub((*server)->address());
      grpc::ClientContext context;
      auto stream = stub->Stream(&context);
      std::vector<Clock::time_point> sent(per_stream);
      std::thread writer([&] {
        for (int i = 0; i < per_stream; ++i) {
          sent[i] = Clock::now();
          // Buffered: let gRPC coalesce writes; every 64th (and WritesDone) flushes.
          grpc::WriteOptions wo;
          // WritesDone does not flush a buffered write: the last one is never buffered.
          if (buffered && i % 64 != 63 && i + 1 < per_stream) wo.set_buffer_hint();
          if (!stream->Write(requests[s][i], wo)) break;
        }
        stream->WritesDone();
      });
      fieldloop::v1::IngestAck ack;
      latencies[s].reserve(per_stream);
      while (stream->Read(&ack)) {
        const auto now = Clock::now();
        if (ack.status() != fieldloop::v1::ACK_STATUS_ACCEPTED) ++not_accepted;
        latencies[s].push_back(
            std::chrono::duration<double, std::milli>(now - sent[ack.request_index()]).count());
      }
      writer.join();
      stream->Finish();
    });
  }
  for (auto& t : threads) t.join();
  const double secs = std::chrono::duration<double>(Clock::now() - start).count();
  absl::StatusOr<fieldloop::storage::SequenceNumber> applied = absl::UnavailableError("off");
  if (themes)
    applied = (*server)->applier().WaitApplied("q3-push", 0, absl::Now() + absl::Minutes(10));
  const double applied_secs = std::chrono::duration<double>(Clock::now() - start).count();
  for (auto& c : watch_contexts) c->TryCancel();
  watches.clear();
  std::vector<double> all;
  for (auto& l : latencies) all.insert(all.end(), l.begin(), l.end());
  RunResult r;
  r.records_per_s = all.size() / secs;
  r.p50_ms = Percentile(all, 0.50);
  r.p99_ms = Percentile(all, 0.99);
  r.applied_per_s = applied.ok() ? all.size() / applied_secs : 0;
  if (static_cast<int>(all.size()) != per_stream * streams) {
    std::fprintf(stderr, "lost acks: %zu of %d\n", all.size(), per_stream * streams);
    std::exit(1);
  }
  if (not_accepted > 0) {
    std::fprintf(stderr, "%d records not accepted\n", not_accepted.load());
    std::exit(1);
  }
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  const std::vector<std::string> texts = LoadTexts();
  struct Config {
    std::string key;
    bool sync;
    int streams;
    bool buffered;  // Client coalesces writes (as `fieldloop push` does).
    bool themes;    // Theme applier on (clustering as records arrive).
  };
  const std::vector<Config> configs = {
      {"ingest_sync_off_1stream", false, 1, false, false},
      {"ingest_sync_off_4streams", false, 4, false, false},
      {"ingest_sync_on_1stream", true, 1, false, false},
      {"ingest_sync_on_4streams", true, 4, false, false},
      {"ingest_sync_off_1stream_buffered", false, 1, true, false},
      {"ingest_sync_on_1stream_buffered", true, 1, true, false},
      {"ingest_themes_sync_off_1stream", false, 1, false, true},
      {"ingest_themes_sync_off_1stream_buffered", false, 1, true, true}};
  std::vector<std::string> json;
  if (!absl::GetFlag(FLAGS_json)) {
    std::printf("%-34s %12s %10s %10s %12s  (median of %d runs)\n", "configuration", "acked/s",
                "ack p50 ms", "ack p99 ms", "applied/s", absl::GetFlag(FLAGS_runs));
  }
  for (const Config& c : configs) {
    if (absl::GetFlag(FLAGS_watchers_only)) break;
    std::vector<double> rps, p50, p99, aps;
    const int records = c.sync ? absl::GetFlag(FLAGS_sync_records) : absl::GetFlag(FLAGS_records);
    for (int run = 0; run < absl::GetFlag(FLAGS_runs); ++run) {
      RunResult r = RunOnce(c.sync, c.streams, records, c.buffered, c.themes, texts);
      rps.push_back(r.records_per_s);
      p50.push_back(r.p50_ms);
      p99.push_back(r.p99_ms);
      aps.push_back(r.applied_per_s);
    }
    if (absl::GetFlag(FLAGS_json)) {
      json.push_back(
          absl::StrCat("\"", c.key, "_records_per_s\": ", static_cast<int64_t>(Median(rps))));
      json.push_back(absl::StrCat("\"", c.key, "_ack_p50_ms\": ", Median(p50)));
      json.push_back(absl::StrCat("\"", c.key, "_ack_p99_ms\": ", Median(p99)));
      if (c.themes) {
        json.push_back(absl::StrCat(
            "\"", c.key, "_applied_records_per_s\": ", static_cast<int64_t>(Median(aps))));
      }
    } else {
      std::printf("%-34s %12.0f %10.3f %10.3f %12.0f\n", c.key.c_str(), Median(rps), Median(p50),
                  Median(p99), Median(aps));
      std::fflush(stdout);
    }
  }
  // Stalled watchers, side by side: each run pairs one without and one with
  // kStalledWatchers watchers that never read (themes on, one stream), alternating which
  // goes first; the ratio is taken per pair and its median reported.
  constexpr int kStalledWatchers = 4;
  std::vector<double> without, with, ratio;
  for (int run = 0; run < absl::GetFlag(FLAGS_runs); ++run) {
    const int records = absl::GetFlag(FLAGS_records);
    RunResult a, b;
    if (run % 2 == 0) {
      a = RunOnce(false, 1, records, false, true, texts, 0);
      b = RunOnce(false, 1, records, false, true, texts, kStalledWatchers);
    } else {
      b = RunOnce(false, 1, records, false, true, texts, kStalledWatchers);
      a = RunOnce(false, 1, records, false, true, texts, 0);
    }
    without.push_back(a.records_per_s);
    with.push_back(b.records_per_s);
    ratio.push_back(b.records_per_s / a.records_per_s);
  }
  if (absl::GetFlag(FLAGS_json)) {
    json.push_back(absl::StrCat("\"ingest_themes_4stalled_watchers_records_per_s\": ",
                                static_cast<int64_t>(Median(with))));
    json.push_back(absl::StrCat("\"ingest_stalled_watchers_ratio\": ", Median(ratio)));
    std::printf("{%s}\n", absl::StrJoin(json, ", ").c_str());
  } else {
    std::printf(
        "%-34s %12.0f  (without watchers in the same pairs: %.0f; with/without "
        "median ratio %.3f)\n",
        "ingest_themes_4stalled_watchers", Median(with), Median(without), Median(ratio));
  }
  return 0;
}
