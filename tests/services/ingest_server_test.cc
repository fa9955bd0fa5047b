// End-to-end tests of ingest: a real FieldloopServer on 127.0.0.1:0 over a real RocksDB in a
// temp directory, real gRPC clients.
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "services/clock.h"
#include "services/server.h"
#include "tests/testing/health_check.h"
#include "tests/testing/ingest_client.h"
#include "tests/testing/temp_dir.h"

namespace fieldloop::services {
namespace {

using fieldloop::v1::IngestAck;
using fieldloop::v1::IngestRequest;
using testing::Feedback;
using ::testing::HasSubstr;
using testing::StreamAll;

class FixedClock : public Clock {
 public:
  absl::Time Now() const override { return absl::FromUnixSeconds(1795608000); }  // 2026-11-25.
};

class IngestServerTest : public ::testing::Test {
 protected:
  void SetUp() override { StartServer(); }

  void StartServer() {
    ServerOptions options;
    options.listen = "127.0.0.1:0";
    options.data_dir = dir_.Sub("data");
    options.clock = &clock_;
    auto server = FieldloopServer::Start(options);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
  }

  void RestartServer() {
    server_.reset();
    StartServer();
  }

  std::vector<IngestRequest> Records(int from, int to) {
    std::vector<IngestRequest> out;
    for (int i = from; i < to; ++i) out.push_back(Feedback(i));
    return out;
  }

  FixedClock clock_;
  testing::TempDir dir_;
  std::unique_ptr<FieldloopServer> server_;
};

TEST_F(IngestServerTest, TenThousandRecordsGetTenThousandAcceptedAcksInOrder) {
  testing::StreamResult r = StreamAll(server_->address(), Records(0, 10000));
  ASSERT_TRUE(r.status.ok()) << r.status.error_message();
  ASSERT_EQ(r.acks.size(), 10000u);
  for (int i = 0; i < 10000; ++i) {
    const IngestAck& ack = r.acks[i];
    ASSERT_EQ(ack.request_index(), static_cast<uint64_t>(i));
    ASSERT_EQ(ack.record_id(), absl::StrCat("fb-", i));
    ASSERT_EQ(ack.status(), fieldloop::v1::ACK_STATUS_ACCEPTED) << ack.message();
    ASSERT_EQ(ack.sequence(), static_cast<uint64_t>(i + 1));
    ASSERT_EQ(ack.kind(), fieldloop::v1::RECORD_KIND_FEEDBACK_EVENT);
  }
}

TEST_F(IngestServerTest, SameRecordsAgainAreDuplicatesAndChangeNothing) {
  ASSERT_EQ(StreamAll(server_->address(), Records(0, 10000)).acks.size(), 10000u);
  testing::StreamResult again = StreamAll(server_->address(), Records(0, 10000));
  ASSERT_TRUE(again.status.ok());
  ASSERT_EQ(again.acks.size(), 10000u);
  for (int i = 0; i < 10000; ++i) {
    ASSERT_EQ(again.acks[i].status(), fieldloop::v1::ACK_STATUS_DUPLICATE);
    ASSERT_EQ(again.acks[i].sequence(), static_cast<uint64_t>(i + 1));
  }
  // Nothing was appended: the next new record gets the next sequence number.
  testing::StreamResult next = StreamAll(server_->address(), Records(10000, 10001));
  ASSERT_EQ(next.acks.size(), 1u);
  EXPECT_EQ(next.acks[0].sequence(), 10001u);
  EXPECT_EQ(server_->ingestor().stats().accepted, 10001u);
  EXPECT_EQ(server_->ingestor().stats().duplicate, 10000u);
}

TEST_F(IngestServerTest, RestartKeepsRecordsAndSequenceNumbersContinue) {
  ASSERT_EQ(StreamAll(server_->address(), Records(0, 10000)).acks.size(), 10000u);
  RestartServer();
  testing::StreamResult again = StreamAll(server_->address(), Records(9990, 10010));
  ASSERT_EQ(again.acks.size(), 20u);
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(again.acks[i].status(), fieldloop::v1::ACK_STATUS_DUPLICATE);
    EXPECT_EQ(again.acks[i].sequence(), static_cast<uint64_t>(9991 + i));
  }
  for (int i = 10; i < 20; ++i) {
    EXPECT_EQ(again.acks[i].status(), fieldloop::v1::ACK_STATUS_ACCEPTED);
    EXPECT_EQ(again.acks[i].sequence(), static_cast<uint64_t>(10001 + i - 10));
  }
}

TEST_F(IngestServerTest, MalformedRecordsInterleavedAreRejectedAloneNamingTheField) {
  std::vector<IngestRequest> requests;
  std::vector<std::string> expected_field;  // Empty for good records.
  int bad = 0;
  for (int i = 0; i < 1100; ++i) {
    IngestRequest r = Feedback(i);
    std::string field;
    if (i % 11 == 5) {
      switch (bad++ % 6) {
        case 0:
          r.mutable_feedback_event()->set_text("");
          field = "feedback_event.text";
          break;
        case 1:
          r.mutable_feedback_event()->set_initiative("../etc");
          field = "feedback_event.initiative";
          break;
        case 2:
          r.mutable_feedback_event()->set_source(fieldloop::v1::SOURCE_UNSPECIFIED);
          field = "feedback_event.source";
          break;
        case 3:
          r.mutable_feedback_event()->clear_occurred_at();
          field = "feedback_event.occurred_at";
          break;
        case 4:
          r.Clear();
          field = "record";
          break;
        case 5:  // Not even decodable: proto3 refuses a string that is not UTF-8.
          r.mutable_feedback_event()->set_text("caf\xc3");
          field = "request";
          break;
      }
    }
    requests.push_back(r);
    expected_field.push_back(field);
  }
  testing::StreamResult result = StreamAll(server_->address(), requests);
  ASSERT_TRUE(result.status.ok()) << result.status.error_message();
  ASSERT_EQ(result.acks.size(), requests.size());
  uint64_t next_seq = 1;
  for (size_t i = 0; i < requests.size(); ++i) {
    const IngestAck& ack = result.acks[i];
    ASSERT_EQ(ack.request_index(), i);
    if (expected_field[i].empty()) {
      ASSERT_EQ(ack.status(), fieldloop::v1::ACK_STATUS_ACCEPTED) << i << ": " << ack.message();
      ASSERT_EQ(ack.sequence(), next_seq++);
    } else {
      ASSERT_EQ(ack.status(), fieldloop::v1::ACK_STATUS_REJECTED) << i;
      EXPECT_EQ(ack.field(), expected_field[i]) << ack.message();
      EXPECT_NE(ack.code(), fieldloop::v1::REJECT_CODE_UNSPECIFIED);
      EXPECT_THAT(ack.message(), HasSubstr(expected_field[i]));
      EXPECT_EQ(ack.sequence(), 0u);
    }
  }
  EXPECT_EQ(next_seq - 1, 1000u);
}

TEST_F(IngestServerTest, ConcurrentStreamsEachGetTheirAcksInOrder) {
  std::vector<testing::StreamResult> results(4);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back(
        [&, t] { results[t] = StreamAll(server_->address(), Records(t * 2000, (t + 1) * 2000)); });
  }
  for (auto& th : threads) th.join();
  std::vector<bool> seen(8001, false);
  for (int t = 0; t < 4; ++t) {
    ASSERT_EQ(results[t].acks.size(), 2000u);
    for (int i = 0; i < 2000; ++i) {
      ASSERT_EQ(results[t].acks[i].record_id(), absl::StrCat("fb-", t * 2000 + i));
      ASSERT_EQ(results[t].acks[i].status(), fieldloop::v1::ACK_STATUS_ACCEPTED);
      const uint64_t seq = results[t].acks[i].sequence();
      ASSERT_GE(seq, 1u);
      ASSERT_LE(seq, 8000u);
      ASSERT_FALSE(seen[seq]) << "sequence " << seq << " given twice";
      seen[seq] = true;
      if (i > 0) {
        ASSERT_GT(seq, results[t].acks[i - 1].sequence());
      }
    }
  }
}

TEST_F(IngestServerTest, ShutdownAcksWhatWasReadAndEndsOpenStreamsWithUnavailable) {
  auto stub = fieldloop::testing::IngestStub(server_->address());
  grpc::ClientContext context;
  auto stream = stub->Stream(&context);
  for (int i = 0; i < 50; ++i) ASSERT_TRUE(stream->Write(Feedback(i)));
  IngestAck ack;
  for (int i = 0; i < 50; ++i) {
    ASSERT_TRUE(stream->Read(&ack));
    ASSERT_EQ(ack.status(), fieldloop::v1::ACK_STATUS_ACCEPTED);
  }
  // The stream is still open (no WritesDone) when the server shuts down.
  std::thread shutdown([&] { server_->Shutdown(absl::Seconds(5)); });
  EXPECT_FALSE(stream->Read(&ack));
  grpc::Status status = stream->Finish();
  shutdown.join();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE) << status.error_message();
  // Everything acked is there after a restart.
  RestartServer();
  testing::StreamResult again = StreamAll(server_->address(), Records(0, 50));
  ASSERT_EQ(again.acks.size(), 50u);
  for (const IngestAck& a : again.acks) EXPECT_EQ(a.status(), fieldloop::v1::ACK_STATUS_DUPLICATE);
}

// Raw protobuf bytes, so the test needs no generated code for the standard services.
grpc::ByteBuffer Bytes(const std::string& s) {
  grpc::Slice slice(s);
  return grpc::ByteBuffer(&slice, 1);
}
std::string String(const grpc::ByteBuffer& b) {
  std::vector<grpc::Slice> slices;
  (void)b.Dump(&slices);
  std::string out;
  for (const auto& s : slices) out.append(reinterpret_cast<const char*>(s.begin()), s.size());
  return out;
}

TEST_F(IngestServerTest, HealthServiceReportsServing) {
  EXPECT_EQ(testing::HealthStatus(server_->address()), "SERVING");
}

TEST_F(IngestServerTest, ReflectionListsTheIngestService) {
  auto channel = grpc::CreateChannel(server_->address(), grpc::InsecureChannelCredentials());
  grpc::GenericStub stub(channel);
  grpc::CompletionQueue queue;
  grpc::ClientContext ctx2;
  auto rpc = stub.PrepareCall(
      &ctx2, "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo", &queue);
  void* tag;
  bool ok;
  rpc->StartCall(reinterpret_cast<void*>(1));
  ASSERT_TRUE(queue.Next(&tag, &ok) && ok);
  // ServerReflectionRequest{list_services: ""}: field 7, length-delimited, empty.
  rpc->Write(Bytes(std::string("\x3a\x00", 2)), reinterpret_cast<void*>(2));
  ASSERT_TRUE(queue.Next(&tag, &ok) && ok);
  grpc::ByteBuffer response;
  rpc->Read(&response, reinterpret_cast<void*>(3));
  ASSERT_TRUE(queue.Next(&tag, &ok) && ok);
  EXPECT_THAT(String(response), HasSubstr("fieldloop.v1.Ingest"));
  EXPECT_THAT(String(response), HasSubstr("grpc.health.v1.Health"));
  rpc->WritesDone(reinterpret_cast<void*>(4));
  ASSERT_TRUE(queue.Next(&tag, &ok));
  grpc::Status status;
  rpc->Finish(&status, reinterpret_cast<void*>(5));
  ASSERT_TRUE(queue.Next(&tag, &ok));
}

}  // namespace
}  // namespace fieldloop::services
