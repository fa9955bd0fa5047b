// gRPC keepalive through a real FieldloopServer on 127.0.0.1:0 over a real RocksDB: a producer
// whose network path dies (no FIN, no RST: tests/testing/tcp_proxy.h freezes the bytes both
// ways) has its Ingest stream cancelled by the server once a keepalive ping goes unanswered
// (--keepalive_time, --keepalive_timeout; docs/operations.md, "Limits and backpressure").
// Every server here runs with --max_streams=1 and no idle timeout, so only keepalive can free
// the stream, and the freed slot is visible both in the metrics and to the next producer.
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "services/server.h"
#include "tests/testing/eventually.h"
#include "tests/testing/fake_clock.h"
#include "tests/testing/http_get.h"
#include "tests/testing/ingest_client.h"
#include "tests/testing/tcp_proxy.h"
#include "tests/testing/temp_dir.h"

namespace fieldloop::services {
namespace {

using fieldloop::v1::IngestAck;
using fieldloop::v1::IngestRequest;
using testing::Eventually;
using testing::Feedback;
using ::testing::HasSubstr;

constexpr int kRecords = 3;
// How long the server gets to notice the frozen peer: far more than the keepalive time plus
// timeout (2 s) it needs, so a loaded machine cannot fail the test.
constexpr absl::Duration kDetectionDeadline = absl::Seconds(20);

// An Ingest stream opened through a TcpProxy.
struct ProxiedStream {
  std::unique_ptr<fieldloop::v1::Ingest::Stub> stub;
  grpc::ClientContext context;
  std::unique_ptr<grpc::ClientReaderWriter<IngestRequest, IngestAck>> stream;
};

class KeepaliveTest : public ::testing::Test {
 protected:
  // A server allowing one stream, with no idle timeout, metrics on, pinging after
  // `keepalive_time` of quiet and giving up on a ping unanswered for 1 s.
  void StartServer(absl::Duration keepalive_time) {
    ServerOptions options;
    options.listen = "127.0.0.1:0";
    options.data_dir = dir_.Sub("data");
    options.clock = &clock_;
    options.metrics_listen = "127.0.0.1:0";
    options.max_streams = 1;
    options.stream_idle_timeout = absl::ZeroDuration();
    options.keepalive_time = keepalive_time;
    options.keepalive_timeout = absl::Seconds(1);
    auto server = FieldloopServer::Start(options);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
    proxy_ = std::make_unique<testing::TcpProxy>(server_->port());
    ASSERT_NE(proxy_->port(), 0) << "the proxy could not listen";
  }

  // Opens an Ingest stream through the proxy, sends kRecords records and reads their acks
  // (each ACCEPTED): the producer is live and has been heard.
  void OpenLiveStream() {
    producer_ = std::make_unique<ProxiedStream>();
    producer_->stub = testing::IngestStub(proxy_->address());
    producer_->context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(60)));
    producer_->stream = producer_->stub->Stream(&producer_->context);
    for (int i = 0; i < kRecords; ++i) ASSERT_TRUE(producer_->stream->Write(Feedback(i)));
    IngestAck ack;
    for (int i = 0; i < kRecords; ++i) {
      ASSERT_TRUE(producer_->stream->Read(&ack)) << producer_->stream->Finish().error_message();
      ASSERT_EQ(ack.status(), fieldloop::v1::ACK_STATUS_ACCEPTED) << ack.message();
    }
    ASSERT_EQ(proxy_->accepted(), 1);
    ASSERT_EQ(StreamsOpen(), 1);
  }

  // fieldloop_ingest_streams_open as the metrics endpoint serves it; -1 when it cannot be
  // scraped or read.
  int StreamsOpen() const {
    const std::optional<testing::HttpResponse> scrape =
        testing::HttpGet(server_->metrics_port(), "/metrics");
    if (!scrape.has_value() || scrape->status != 200) return -1;
    const std::string name = "\nfieldloop_ingest_streams_open ";
    const size_t at = scrape->body.find(name);
    if (at == std::string::npos) return -1;
    const size_t start = at + name.size();
    double value;
    if (!absl::SimpleAtod(scrape->body.substr(start, scrape->body.find('\n', start) - start),
                          &value)) {
      return -1;
    }
    return static_cast<int>(value);
  }

  // The final status of a stream opened straight to the server (no proxy) that sends
  // nothing: RESOURCE_EXHAUSTED while the producer's stream holds the only slot.
  grpc::Status DirectStreamStatus() const {
    auto stub = testing::IngestStub(server_->address());
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
    auto stream = stub->Stream(&context);
    stream->WritesDone();
    IngestAck ack;
    while (stream->Read(&ack)) {
    }
    return stream->Finish();
  }

  // Sends the producer's records again straight to the server: each must be a DUPLICATE
  // (what was acked before the path died is stored). Needs the stream slot to be free.
  void ExpectProducerRecordsStored() const {
    std::vector<IngestRequest> again;
    for (int i = 0; i < kRecords; ++i) again.push_back(Feedback(i));
    const testing::StreamResult r = testing::StreamAll(server_->address(), again);
    ASSERT_TRUE(r.status.ok()) << r.status.error_message();
    ASSERT_EQ(r.acks.size(), static_cast<size_t>(kRecords));
    for (const IngestAck& a : r.acks) {
      EXPECT_EQ(a.status(), fieldloop::v1::ACK_STATUS_DUPLICATE) << a.ShortDebugString();
    }
  }

  // Ends the test's connections: the proxy closes both sides (the producer's call then
  // fails at once instead of at its deadline), then the producer's call is finished.
  void TearDown() override {
    proxy_.reset();
    if (producer_ != nullptr && producer_->stream != nullptr) {
      producer_->context.TryCancel();
      producer_->stream->Finish();
    }
    producer_.reset();
  }

  testing::FakeClock clock_{absl::FromUnixSeconds(1795608000)};  // 2026-11-25.
  testing::TempDir dir_;
  std::unique_ptr<FieldloopServer> server_;
  std::unique_ptr<testing::TcpProxy> proxy_;
  std::unique_ptr<ProxiedStream> producer_;
};

// Logs how long the server took to free the frozen producer's stream, and records it in the
// test's XML (property "detected_after_ms").
void ReportDetection(absl::Duration took) {
  const int ms = static_cast<int>(absl::ToInt64Milliseconds(took));
  ::testing::Test::RecordProperty("detected_after_ms", ms);
  std::fprintf(stderr, "keepalive: frozen peer's stream freed %d ms after the freeze\n", ms);
}

TEST_F(KeepaliveTest, ServerCancelsTheStreamOfAPeerThatVanishedAndKeepsWhatItAcked) {
  ASSERT_NO_FATAL_FAILURE(StartServer(absl::Seconds(1)));
  ASSERT_NO_FATAL_FAILURE(OpenLiveStream());
  EXPECT_EQ(DirectStreamStatus().error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);

  const absl::Time frozen = absl::Now();
  proxy_->Freeze();
  ASSERT_TRUE(Eventually([&] { return StreamsOpen() == 0; }, kDetectionDeadline))
      << "the stream of a peer that vanished is still open " << kDetectionDeadline
      << " later, with --keepalive_time=1s --keepalive_timeout=1s";
  ReportDetection(absl::Now() - frozen);

  // The slot is free for the next producer, and what the vanished one was acked is stored.
  ExpectProducerRecordsStored();
  EXPECT_EQ(server_->ingestor().stats().accepted, static_cast<uint64_t>(kRecords));
}

// gRPC stops sending pings after GRPC_ARG_HTTP2_MAX_PINGS_WITHOUT_DATA (default 2) with no
// data sent in between; in gRPC 1.51 only clients are held to it. Were the server held to it
// too, a connection quiet for more than two keepalive times would never be pinged again and
// its peer, once vanished, never noticed. Here the producer stays quiet on a live path for
// four keepalive times (pings answered, the stream kept), then vanishes.
TEST_F(KeepaliveTest, ServerCancelsTheStreamOfAPeerThatWasQuietBeforeItVanished) {
  ASSERT_NO_FATAL_FAILURE(StartServer(absl::Seconds(1)));
  ASSERT_NO_FATAL_FAILURE(OpenLiveStream());
  // Quiet, on a live path, for four keepalive times: the server's pings are answered.
  absl::SleepFor(absl::Seconds(4));
  ASSERT_EQ(StreamsOpen(), 1) << "a live, quiet producer lost its stream";

  const absl::Time frozen = absl::Now();
  proxy_->Freeze();
  ASSERT_TRUE(Eventually([&] { return StreamsOpen() == 0; }, kDetectionDeadline))
      << "the stream of a peer that vanished after 4 s of quiet is still open "
      << kDetectionDeadline << " later, with --keepalive_time=1s --keepalive_timeout=1s";
  ReportDetection(absl::Now() - frozen);
  ExpectProducerRecordsStored();
}

// The control: the same frozen peer with keepalive effectively off keeps its stream (and
// the only slot), so the tests above fail if keepalive were not set on the server.
TEST_F(KeepaliveTest, WithoutKeepaliveTheStreamOfAPeerThatVanishedStaysOpen) {
  ASSERT_NO_FATAL_FAILURE(StartServer(absl::Hours(24)));
  ASSERT_NO_FATAL_FAILURE(OpenLiveStream());

  proxy_->Freeze();
  // Longer than the keepalive tests need (ping after 1 s, 1 s to answer), polled so that a
  // stream freed early fails at once.
  EXPECT_FALSE(Eventually([&] { return StreamsOpen() != 1; }, absl::Seconds(5)))
      << "the stream ended without keepalive: " << StreamsOpen() << " open";
  const grpc::Status refused = DirectStreamStatus();
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << refused.error_message();
  EXPECT_THAT(refused.error_message(), HasSubstr("--max_streams"));

  // Once the connection really closes, the stream ends and its records are stored.
  proxy_.reset();
  ASSERT_TRUE(Eventually([&] { return StreamsOpen() == 0; }, kDetectionDeadline));
  ExpectProducerRecordsStored();
}

}  // namespace
}  // namespace fieldloop::services
