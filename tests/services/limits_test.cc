// Limits and backpressure through a real FieldloopServer on 127.0.0.1:0 over a real RocksDB:
// message size, flow control per stream, concurrent streams and watchers, the idle timeout,
// and option validation (docs/operations.md, "Limits and backpressure").
#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "proto/fieldloop/v1/themes.grpc.pb.h"
#include "services/clock.h"
#include "services/server.h"
#include "tests/testing/eventually.h"
#include "tests/testing/fake_clock.h"
#include "tests/testing/http_get.h"
#include "tests/testing/ingest_client.h"
#include "tests/testing/subprocess.h"
#include "tests/testing/temp_dir.h"

namespace fieldloop::services {
namespace {

using fieldloop::v1::IngestAck;
using fieldloop::v1::IngestRequest;
using testing::Eventually;
using testing::Feedback;
using ::testing::HasSubstr;

// Feedback(n) with its text padded to about `bytes`.
IngestRequest Padded(int n, size_t bytes) {
  IngestRequest r = Feedback(n);
  r.mutable_feedback_event()->set_text(
      absl::StrCat(r.feedback_event().text(), " ", std::string(bytes, 'x')));
  return r;
}

using Stream = grpc::ClientReaderWriter<IngestRequest, IngestAck>;

// An open Ingest stream with its context and stub.
struct OpenStream {
  std::unique_ptr<fieldloop::v1::Ingest::Stub> stub;
  grpc::ClientContext context;
  std::unique_ptr<Stream> stream;
};

// `small_window`: the client's HTTP/2 receive window stays at 16 KiB (no BDP probing), so
// the acks it does not read fill it after a few hundred.
std::unique_ptr<OpenStream> Open(const std::string& address,
                                 absl::Duration deadline = absl::Seconds(120),
                                 bool small_window = false) {
  auto s = std::make_unique<OpenStream>();
  if (small_window) {
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_HTTP2_BDP_PROBE, 0);
    args.SetInt(GRPC_ARG_HTTP2_STREAM_LOOKAHEAD_BYTES, 16 * 1024);
    s->stub = fieldloop::v1::Ingest::NewStub(
        grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), args));
  } else {
    s->stub = testing::IngestStub(address);
  }
  s->context.set_deadline(absl::ToChronoTime(absl::Now() + deadline));
  s->stream = s->stub->Stream(&s->context);
  return s;
}

class LimitsTest : public ::testing::Test {
 protected:
  // A server with `options` (listen, data_dir and clock filled in).
  void StartServer(ServerOptions options) {
    options.listen = "127.0.0.1:0";
    options.data_dir = dir_.Sub("data");
    options.clock = &clock_;
    auto server = FieldloopServer::Start(options);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
  }

  // Records read by the server so far (every one read is acked with one of these).
  uint64_t Read() const {
    const IngestStats s = server_->ingestor().stats();
    return s.accepted + s.duplicate + s.rejected;
  }

  testing::FakeClock clock_{absl::FromUnixSeconds(1795608000)};  // 2026-11-25.
  testing::TempDir dir_;
  std::unique_ptr<FieldloopServer> server_;
};

TEST_F(LimitsTest, OversizedMessageEndsTheStreamWithResourceExhaustedAndKeepsWhatWasAcked) {
  ServerOptions options;
  options.max_record_bytes = 4096;
  options.max_message_bytes = 16384;
  StartServer(options);
  auto s = Open(server_->address());
  IngestAck ack;
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(s->stream->Write(Feedback(i)));
    ASSERT_TRUE(s->stream->Read(&ack));
    ASSERT_EQ(ack.status(), fieldloop::v1::ACK_STATUS_ACCEPTED) << ack.message();
  }
  // Over --max_record_bytes but within --max_message_bytes: rejected alone, the stream goes on.
  ASSERT_TRUE(s->stream->Write(Padded(5, 8000)));
  ASSERT_TRUE(s->stream->Read(&ack));
  EXPECT_EQ(ack.status(), fieldloop::v1::ACK_STATUS_REJECTED);
  EXPECT_EQ(ack.code(), fieldloop::v1::REJECT_CODE_TOO_LARGE) << ack.message();
  // Over --max_message_bytes: gRPC ends the stream.
  s->stream->Write(Padded(6, 20000));
  s->stream->WritesDone();
  while (s->stream->Read(&ack)) {
    ADD_FAILURE() << "an ack after the oversized message: " << ack.ShortDebugString();
  }
  const grpc::Status status = s->stream->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << status.error_message();

  // Everything acked before is stored: sent again, each is a duplicate.
  std::vector<IngestRequest> again;
  for (int i = 0; i < 5; ++i) again.push_back(Feedback(i));
  const testing::StreamResult r = testing::StreamAll(server_->address(), again);
  ASSERT_TRUE(r.status.ok()) << r.status.error_message();
  ASSERT_EQ(r.acks.size(), 5u);
  for (const IngestAck& a : r.acks) EXPECT_EQ(a.status(), fieldloop::v1::ACK_STATUS_DUPLICATE);
}

// A producer that writes without reading its acks stops being read near
// --max_inflight_per_stream; once it reads them, every record is accepted in order.
TEST_F(LimitsTest, ProducerThatDoesNotReadAcksStopsBeingReadNearTheInflightLimit) {
  constexpr int kLimit = 64;
  constexpr int kRecords = 6000;
  constexpr size_t kPadding = 4000;  // ~24 MB in all: far more than the HTTP/2 windows hold.
  ServerOptions options;
  options.max_inflight_per_stream = kLimit;
  StartServer(options);

  auto s = Open(server_->address(), absl::Minutes(5), /*small_window=*/true);
  std::atomic<int> written{0};
  std::thread writer([&] {
    for (int i = 0; i < kRecords; ++i) {
      if (!s->stream->Write(Padded(i, kPadding))) return;
      written.fetch_add(1);
    }
    s->stream->WritesDone();
  });

  // Wait until the server has stopped reading: no new record for 2 s. (Stopping early only
  // makes the bound below easier to meet, so a slow machine cannot fail this.)
  uint64_t read = 0;
  absl::Time changed = absl::Now();
  const absl::Time give_up = absl::Now() + absl::Seconds(120);
  while (absl::Now() < give_up) {
    const uint64_t now_read = Read();
    if (now_read != read) {
      read = now_read;
      changed = absl::Now();
    } else if (read > 0 && absl::Now() - changed > absl::Seconds(2)) {
      break;
    }
    absl::SleepFor(absl::Milliseconds(20));
  }
  // Read: the limit, plus the acks already written into the client's 16 KiB HTTP/2 window
  // (about 730 of these acks). Without the limit, the server reads everything the producer
  // sends.
  constexpr uint64_t kSlack = 1500;
  RecordProperty("read_while_acks_unread", static_cast<int>(read));
  RecordProperty("written_while_acks_unread", written.load());
  EXPECT_GE(read, static_cast<uint64_t>(kLimit));
  EXPECT_LE(read, kLimit + kSlack) << "the server kept reading a producer that reads no acks";
  EXPECT_LT(written.load(), kRecords) << "the producer was never pushed back on";

  // Now the producer reads: everything comes through, each accepted, in order.
  IngestAck ack;
  int acks = 0;
  while (s->stream->Read(&ack)) {
    ASSERT_EQ(ack.request_index(), static_cast<uint64_t>(acks));
    ASSERT_EQ(ack.status(), fieldloop::v1::ACK_STATUS_ACCEPTED) << ack.message();
    ++acks;
  }
  writer.join();
  const grpc::Status status = s->stream->Finish();
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(acks, kRecords);
  EXPECT_EQ(server_->ingestor().stats().accepted, static_cast<uint64_t>(kRecords));
}

TEST_F(LimitsTest, StreamBeyondMaxStreamsIsRefusedUntilOneEnds) {
  ServerOptions options;
  options.max_streams = 3;
  options.metrics_listen = "127.0.0.1:0";
  StartServer(options);
  std::vector<std::unique_ptr<OpenStream>> open;
  IngestAck ack;
  for (int i = 0; i < 3; ++i) {
    open.push_back(Open(server_->address()));
    ASSERT_TRUE(open.back()->stream->Write(Feedback(i)));
    ASSERT_TRUE(open.back()->stream->Read(&ack));  // Live: its record was acked.
    ASSERT_EQ(ack.status(), fieldloop::v1::ACK_STATUS_ACCEPTED);
  }
  {
    auto extra = Open(server_->address());
    extra->stream->Write(Feedback(100));
    extra->stream->WritesDone();
    EXPECT_FALSE(extra->stream->Read(&ack));
    const grpc::Status status = extra->stream->Finish();
    EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
    EXPECT_THAT(status.error_message(), HasSubstr("--max_streams"));
    EXPECT_THAT(status.error_message(), HasSubstr("at most 3"));
  }
  // The refused stream read nothing; the metrics show it.
  EXPECT_EQ(Read(), 3u);
  const std::optional<testing::HttpResponse> scrape =
      testing::HttpGet(server_->metrics_port(), "/metrics");
  ASSERT_TRUE(scrape.has_value());
  EXPECT_THAT(scrape->body, HasSubstr("fieldloop_ingest_streams_open 3"));
  EXPECT_THAT(scrape->body, HasSubstr("fieldloop_streams_refused_total{reason=\"max_streams\"} 1"));

  // One ends (its final status is counted out before the client can see it): a new one
  // is taken.
  open[0]->stream->WritesDone();
  EXPECT_FALSE(open[0]->stream->Read(&ack));
  ASSERT_TRUE(open[0]->stream->Finish().ok());
  auto next = Open(server_->address());
  ASSERT_TRUE(next->stream->Write(Feedback(3)));
  ASSERT_TRUE(next->stream->Read(&ack)) << next->stream->Finish().error_message();
  EXPECT_EQ(ack.status(), fieldloop::v1::ACK_STATUS_ACCEPTED);
  next->stream->WritesDone();
  EXPECT_TRUE(next->stream->Finish().ok());
  for (size_t i = 1; i < open.size(); ++i) {
    open[i]->stream->WritesDone();
    EXPECT_TRUE(open[i]->stream->Finish().ok());
  }
}

TEST_F(LimitsTest, IdleStreamEndsWithUnavailableAfterItsAcksWhileAnActiveOneGoesOn) {
  ServerOptions options;
  options.stream_idle_timeout = absl::Seconds(2);
  StartServer(options);
  // The idle stream: three records, then nothing.
  const absl::Time opened = absl::Now();  // Before any activity of the idle stream.
  auto idle = Open(server_->address(), absl::Seconds(30));
  IngestAck ack;
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(idle->stream->Write(Feedback(i)));
  // The active stream: a record every 100 ms, well within the timeout, on its own thread.
  std::atomic<bool> stop{false};
  std::atomic<int> active_acks{0};
  grpc::Status active_status;
  std::thread active([&] {
    auto s = Open(server_->address());
    IngestAck a;
    for (int i = 1000; !stop.load(); ++i) {
      if (!s->stream->Write(Feedback(i)) || !s->stream->Read(&a)) break;
      if (a.status() == fieldloop::v1::ACK_STATUS_ACCEPTED) active_acks.fetch_add(1);
      absl::SleepFor(absl::Milliseconds(100));
    }
    s->stream->WritesDone();
    while (s->stream->Read(&a)) {
    }
    active_status = s->stream->Finish();
  });

  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(idle->stream->Read(&ack));
    EXPECT_EQ(ack.status(), fieldloop::v1::ACK_STATUS_ACCEPTED);
  }
  EXPECT_FALSE(idle->stream->Read(&ack));  // Ends, after the timeout (else the deadline).
  EXPECT_GE(absl::Now() - opened, absl::Seconds(2)) << "ended before it was idle for 2s";
  const grpc::Status status = idle->stream->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE) << status.error_message();
  EXPECT_THAT(status.error_message(), HasSubstr("idle for 2s"));

  // The active stream outlived it by more than a timeout.
  const int before = active_acks.load();
  ASSERT_TRUE(Eventually([&] { return active_acks.load() >= before + 25; }));
  stop = true;
  active.join();
  EXPECT_TRUE(active_status.ok()) << active_status.error_message();

  // What the idle stream had acked is stored.
  const testing::StreamResult r = testing::StreamAll(server_->address(), {Feedback(0)});
  ASSERT_EQ(r.acks.size(), 1u);
  EXPECT_EQ(r.acks[0].status(), fieldloop::v1::ACK_STATUS_DUPLICATE);
}

// A client that neither reads its acks nor writes (its writes are blocked) cannot take
// the idle stream's final status: one more timeout later the call is cancelled. What it was
// acked is stored.
TEST_F(LimitsTest, IdleStreamWhoseClientReadsNothingIsCancelledAndKeepsItsRecords) {
  ServerOptions options;
  options.stream_idle_timeout = absl::Seconds(1);
  options.max_inflight_per_stream = 16;
  StartServer(options);
  auto s = Open(server_->address(), absl::Seconds(60), /*small_window=*/true);
  std::thread writer([&] {
    for (int i = 0; i < 6000; ++i) {
      if (!s->stream->Write(Padded(i, 4000))) return;  // Fails once the call is cancelled.
    }
    s->stream->WritesDone();
  });
  writer.join();  // Returns once the server cancelled the call (else at the deadline).
  std::vector<IngestRequest> acked;
  IngestAck ack;
  while (s->stream->Read(&ack)) acked.push_back(Feedback(static_cast<int>(ack.request_index())));
  const grpc::Status status = s->stream->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::CANCELLED) << status.error_message();
  ASSERT_FALSE(acked.empty());
  const testing::StreamResult r = testing::StreamAll(server_->address(), acked);
  ASSERT_EQ(r.acks.size(), acked.size());
  for (const IngestAck& a : r.acks) EXPECT_EQ(a.status(), fieldloop::v1::ACK_STATUS_DUPLICATE);
}

// Opens a WatchThemes call and reads its first message (CAUGHT_UP of an empty initiative)
// to know it is being served; returns the status if it ended instead.
struct Watch {
  grpc::ClientContext context;
  std::unique_ptr<grpc::ClientReader<fieldloop::v1::ThemeChange>> reader;
};
std::unique_ptr<Watch> StartWatch(fieldloop::v1::Themes::Stub* stub, grpc::Status* ended) {
  auto w = std::make_unique<Watch>();
  w->context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(120)));
  fieldloop::v1::WatchThemesRequest request;
  request.set_initiative("q3-push");
  w->reader = stub->WatchThemes(&w->context, request);
  fieldloop::v1::ThemeChange change;
  if (!w->reader->Read(&change)) {
    *ended = w->reader->Finish();
    return nullptr;
  }
  return w;
}

TEST_F(LimitsTest, WatchBeyondMaxWatchersIsRefusedUntilOneEnds) {
  ServerOptions options;
  options.max_watchers = 2;
  StartServer(options);
  auto stub = fieldloop::v1::Themes::NewStub(
      grpc::CreateChannel(server_->address(), grpc::InsecureChannelCredentials()));
  grpc::Status ended;
  auto first = StartWatch(stub.get(), &ended);
  ASSERT_NE(first, nullptr) << ended.error_message();
  auto second = StartWatch(stub.get(), &ended);
  ASSERT_NE(second, nullptr) << ended.error_message();
  EXPECT_EQ(StartWatch(stub.get(), &ended), nullptr);
  EXPECT_EQ(ended.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_THAT(ended.error_message(), HasSubstr("--max_watchers"));

  // The server notices the cancel within a second or so: a new watch is then taken.
  first->context.TryCancel();
  first->reader->Finish();
  std::unique_ptr<Watch> third;
  ASSERT_TRUE(Eventually([&] {
    third = StartWatch(stub.get(), &ended);
    return third != nullptr;
  })) << ended.error_message();
  third->context.TryCancel();
  third->reader->Finish();
  second->context.TryCancel();
  second->reader->Finish();
}

TEST_F(LimitsTest, IngestWaitsWhileThemeStateTrailsBeyondMaxApplyBacklog) {
  constexpr int kStored = 30000;
  constexpr uint64_t kMaxBacklog = 1000;
  {
    // An ingest-only server stores records that no applier has seen yet.
    ServerOptions ingest_only;
    ingest_only.apply_themes = false;
    StartServer(ingest_only);
    std::vector<IngestRequest> records;
    for (int i = 0; i < kStored; ++i) records.push_back(Feedback(i));
    const testing::StreamResult r = testing::StreamAll(server_->address(), records);
    ASSERT_TRUE(r.status.ok()) << r.status.error_message();
    ASSERT_EQ(r.acks.size(), static_cast<size_t>(kStored));
    server_.reset();
  }
  // A server with themes on replays them at start; the backlog is far over the limit, so a
  // new record is acked only once the applier has brought it down to the limit.
  ServerOptions options;
  options.max_apply_backlog = kMaxBacklog;
  options.apply_backlog_max_wait = absl::Minutes(5);
  StartServer(options);
  ASSERT_GT(server_->applier().Backlog(), 5 * kMaxBacklog)
      << "the replay finished before the test could send: make kStored larger";
  const testing::StreamResult r = testing::StreamAll(server_->address(), {Feedback(kStored)});
  ASSERT_TRUE(r.status.ok()) << r.status.error_message();
  ASSERT_EQ(r.acks.size(), 1u);
  EXPECT_EQ(r.acks[0].status(), fieldloop::v1::ACK_STATUS_ACCEPTED) << r.acks[0].message();
  // Applied counts only grow: read after the ack, it is at least what it was at the write.
  EXPECT_GE(server_->applier().stats().applied, kStored - kMaxBacklog);
  ASSERT_TRUE(testing::WaitApplied(server_->address(), "q3-push").ok());
  EXPECT_EQ(server_->applier().Backlog(), 0u);
}

TEST(LimitsOptions, BadValuesAreRefusedAtStartNamingTheFlag) {
  struct Case {
    const char* flag;
    void (*set)(ServerOptions*);
  };
  const Case cases[] = {
      {"--max_message_bytes", [](ServerOptions* o) { o->max_message_bytes = 1000; }},
      {"--max_message_bytes", [](ServerOptions* o) { o->max_message_bytes = 1u << 30; }},
      {"--max_streams", [](ServerOptions* o) { o->max_streams = 0; }},
      {"--max_inflight_per_stream", [](ServerOptions* o) { o->max_inflight_per_stream = 0; }},
      {"--stream_idle_timeout",
       [](ServerOptions* o) { o->stream_idle_timeout = absl::Seconds(-1); }},
      {"--max_watchers", [](ServerOptions* o) { o->max_watchers = 0; }},
      {"--keepalive_time", [](ServerOptions* o) { o->keepalive_time = absl::Milliseconds(10); }},
      {"--keepalive_timeout",
       [](ServerOptions* o) { o->keepalive_timeout = absl::ZeroDuration(); }},
      {"--apply_backlog_max_wait",
       [](ServerOptions* o) { o->apply_backlog_max_wait = absl::ZeroDuration(); }},
      {"--block_cache_mb", [](ServerOptions* o) { o->block_cache_mb = 0; }},
      {"--write_buffer_mb", [](ServerOptions* o) { o->write_buffer_mb = 15; }},
  };
  for (const Case& c : cases) {
    testing::TempDir dir;
    ServerOptions options;
    options.listen = "127.0.0.1:0";
    options.data_dir = dir.Sub("data");
    c.set(&options);
    auto server = FieldloopServer::Start(options);
    ASSERT_FALSE(server.ok()) << c.flag;
    EXPECT_TRUE(absl::IsInvalidArgument(server.status())) << server.status();
    EXPECT_THAT(std::string(server.status().message()), HasSubstr(c.flag));
  }
  // The edges of the ranges are taken.
  testing::TempDir dir;
  ServerOptions options;
  options.listen = "127.0.0.1:0";
  options.data_dir = dir.Sub("data");
  options.max_message_bytes = options.max_record_bytes;
  options.stream_idle_timeout = absl::ZeroDuration();
  options.keepalive_time = absl::Seconds(1);
  options.keepalive_timeout = absl::Hours(24);
  options.max_streams = 1;
  options.max_inflight_per_stream = 1;
  options.block_cache_mb = 1;
  options.write_buffer_mb = 16;
  auto server = FieldloopServer::Start(options);
  EXPECT_TRUE(server.ok()) << server.status();
}

TEST(LimitsFlags, FieldloopdListsTheLimitFlagsAndRefusesBadDurations) {
  testing::Subprocess help({testing::Runfile("services/fieldloopd"), "--helpfull"});
  const std::string out = help.DrainOutput();
  help.Wait();
  for (const char* flag :
       {"--max_message_bytes", "--max_streams", "--max_inflight_per_stream",
        "--stream_idle_timeout", "--max_watchers", "--keepalive_time", "--keepalive_timeout"}) {
    EXPECT_THAT(out, HasSubstr(flag));
  }
  for (std::string bad : {"--keepalive_time=soon", "--keepalive_timeout=0",
                          "--stream_idle_timeout=5", "--max_streams=0"}) {
    testing::TempDir dir;
    const testing::Finished run =
        testing::RunToEnd({testing::Runfile("services/fieldloopd"), "--listen=127.0.0.1:0",
                           "--data_dir=" + dir.Sub("data"), bad});
    EXPECT_EQ(run.status, 1) << bad << ": " << run.output;
    EXPECT_THAT(run.output, HasSubstr(bad.substr(0, bad.find('=')))) << bad;
    EXPECT_THAT(run.output, ::testing::Not(HasSubstr("listening on")));
  }
}

}  // namespace
}  // namespace fieldloop::services
