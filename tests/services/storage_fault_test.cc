// Storage faults through a real server: RocksDB on a fault-injecting file system
// (storage/fault_injection_fs.h) in a temp directory, a real gRPC server on 127.0.0.1:0. The
// disk "fills" mid-stream: records that cannot be stored are acked REJECTED with code
// UNAVAILABLE, health turns NOT_SERVING, Board.Materialize answers UNAVAILABLE; once space
// returns the server recovers by itself, and nothing acked before is lost or stored twice.
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "proto/fieldloop/v1/board.grpc.pb.h"
#include "services/server.h"
#include "services/theme_applier.h"
#include "storage/fault_injection_fs.h"
#include "storage/store.h"
#include "tests/testing/fake_clock.h"
#include "tests/testing/health_check.h"
#include "tests/testing/ingest_client.h"
#include "tests/testing/temp_dir.h"

namespace fieldloop::services {
namespace {

using fieldloop::v1::IngestAck;
using fieldloop::v1::IngestRequest;
using ::testing::HasSubstr;

constexpr char kInitiative[] = "q3-push";
// Generous: the store retries at least every second, but the machine may be busy.
constexpr absl::Duration kDeadline = absl::Seconds(60);

std::vector<IngestRequest> Records(int from, int to) {
  std::vector<IngestRequest> out;
  for (int i = from; i < to; ++i) out.push_back(testing::Feedback(i));
  return out;
}

grpc::ByteBuffer Bytes(const std::string& s) {
  grpc::Slice slice(s);
  return grpc::ByteBuffer(&slice, 1);
}

// Polls Health until it is `want` or the deadline passes; returns the last answer.
std::string WaitHealth(const std::string& address, const std::string& want) {
  const absl::Time deadline = absl::Now() + kDeadline;
  std::string last = testing::HealthStatus(address);
  while (last != want && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(50));
    last = testing::HealthStatus(address);
  }
  return last;
}

class StorageFaultTest : public ::testing::Test {
 protected:
  // Starts a server on dir_ whose store does its I/O through `env` (nullptr: the real one).
  void StartServer(rocksdb::Env* env) {
    ServerOptions options;
    options.listen = "127.0.0.1:0";
    options.data_dir = dir_.Sub("data");
    options.output_root = dir_.Sub("out");
    options.clock = &clock_;
    options.store_env = env;
    auto server = FieldloopServer::Start(options);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
  }

  grpc::Status Materialize() {
    auto stub = fieldloop::v1::Board::NewStub(
        grpc::CreateChannel(server_->address(), grpc::InsecureChannelCredentials()));
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(120));
    fieldloop::v1::MaterializeRequest request;
    request.set_initiative(kInitiative);
    request.set_as_of("2026-11-25");
    fieldloop::v1::MaterializeResponse response;
    return stub->Materialize(&context, request, &response);
  }

  // Sum of the mentions of the live themes: every applied feedback event counts once.
  int64_t Mentions() {
    int64_t total = 0;
    for (const auto& t : server_->applier().Summaries(kInitiative)) total += t.mentions;
    return total;
  }

  testing::FakeClock clock_{absl::FromUnixSeconds(1795608000)};  // 2026-11-25.
  testing::TempDir dir_;
  storage::FaultInjectionEnv faults_ = storage::NewFaultInjectionEnv();
  std::unique_ptr<FieldloopServer> server_;
};

// The write-ahead log fills: RocksDB turns the error fatal (docs/storage.md, "Storage
// faults") and the store recovers by reopening RocksDB.
TEST_F(StorageFaultTest, FullDiskRejectsUnavailableTurnsNotServingAndRecoversLosingNothing) {
  StartServer(faults_.env.get());
  ASSERT_NE(server_, nullptr);
  const std::string address = server_->address();
  testing::StreamResult first = testing::StreamAll(address, Records(0, 200));
  ASSERT_TRUE(first.status.ok()) << first.status.error_message();
  ASSERT_EQ(first.acks.size(), 200u);
  for (const IngestAck& ack : first.acks) {
    ASSERT_EQ(ack.status(), fieldloop::v1::ACK_STATUS_ACCEPTED) << ack.message();
  }
  ASSERT_TRUE(testing::WaitApplied(address, kInitiative).ok());
  EXPECT_EQ(testing::HealthStatus(address), "SERVING");

  // The disk fills part way through the next stream (about 250 bytes of log per record).
  faults_.fs->FailAfterBytes(40000);
  testing::StreamResult second = testing::StreamAll(address, Records(200, 1200));
  ASSERT_TRUE(second.status.ok()) << second.status.error_message();
  ASSERT_EQ(second.acks.size(), 1000u);
  // Every ack is ACCEPTED (stored before the disk filled) or REJECTED UNAVAILABLE.
  std::vector<bool> acked(1200, false);
  for (int i = 0; i < 200; ++i) acked[i] = true;
  int rejected = 0;
  for (const IngestAck& ack : second.acks) {
    const int n = 200 + static_cast<int>(ack.request_index());
    ASSERT_EQ(ack.record_id(), absl::StrCat("fb-", n));
    if (ack.status() == fieldloop::v1::ACK_STATUS_ACCEPTED) {
      acked[n] = true;
      continue;
    }
    ++rejected;
    ASSERT_EQ(ack.status(), fieldloop::v1::ACK_STATUS_REJECTED);
    EXPECT_EQ(ack.code(), fieldloop::v1::REJECT_CODE_UNAVAILABLE) << ack.message();
    EXPECT_EQ(ack.field(), "request");
    EXPECT_THAT(ack.message(), HasSubstr("No space left on device"));
  }
  EXPECT_GT(rejected, 0);
  EXPECT_TRUE(faults_.fs->exhausted());
  EXPECT_EQ(WaitHealth(address, "NOT_SERVING"), "NOT_SERVING");
  grpc::Status board = Materialize();
  EXPECT_EQ(board.error_code(), grpc::StatusCode::UNAVAILABLE) << board.error_message();
  // Still full: recovery attempts fail and health stays NOT_SERVING.
  absl::SleepFor(absl::Milliseconds(600));
  EXPECT_EQ(testing::HealthStatus(address), "NOT_SERVING");

  faults_.fs->Heal();
  EXPECT_EQ(WaitHealth(address, "SERVING"), "SERVING");
  // Everything again: what was acked is a duplicate with its sequence number. A rejected
  // record is new, or a duplicate when its batch was complete in the write-ahead log that
  // the store's reopen replayed (acked UNAVAILABLE, yet stored: resending it is safe).
  std::vector<uint64_t> sequence(1200, 0);
  for (int i = 0; i < 200; ++i) sequence[i] = first.acks[i].sequence();
  for (const IngestAck& ack : second.acks) {
    if (ack.status() == fieldloop::v1::ACK_STATUS_ACCEPTED) {
      sequence[200 + ack.request_index()] = ack.sequence();
    }
  }
  testing::StreamResult third = testing::StreamAll(address, Records(0, 1200));
  ASSERT_TRUE(third.status.ok()) << third.status.error_message();
  ASSERT_EQ(third.acks.size(), 1200u);
  std::vector<bool> seen_sequence(1201, false);
  for (int i = 0; i < 1200; ++i) {
    const IngestAck& ack = third.acks[i];
    if (acked[i]) {
      ASSERT_EQ(ack.status(), fieldloop::v1::ACK_STATUS_DUPLICATE) << "fb-" << i << " was lost";
      ASSERT_EQ(ack.sequence(), sequence[i]);
    } else {
      ASSERT_TRUE(ack.status() == fieldloop::v1::ACK_STATUS_ACCEPTED ||
                  ack.status() == fieldloop::v1::ACK_STATUS_DUPLICATE)
          << "fb-" << i << ": " << ack.message();
    }
    ASSERT_GE(ack.sequence(), 1u);
    ASSERT_LE(ack.sequence(), 1200u);
    ASSERT_FALSE(seen_sequence[ack.sequence()]) << "sequence " << ack.sequence() << " twice";
    seen_sequence[ack.sequence()] = true;
  }
  ASSERT_TRUE(testing::WaitApplied(address, kInitiative).ok());
  EXPECT_EQ(Mentions(), 1200);
  grpc::Status materialized = Materialize();
  EXPECT_TRUE(materialized.ok()) << materialized.error_message();

  // Restarted on the real file system: exactly the 1,200 records, each once.
  server_.reset();
  StartServer(nullptr);
  ASSERT_NE(server_, nullptr);
  testing::StreamResult again = testing::StreamAll(server_->address(), Records(0, 1200));
  ASSERT_EQ(again.acks.size(), 1200u);
  for (int i = 0; i < 1200; ++i) {
    ASSERT_EQ(again.acks[i].status(), fieldloop::v1::ACK_STATUS_DUPLICATE) << "fb-" << i;
    ASSERT_EQ(again.acks[i].sequence(), third.acks[i].sequence());
  }
  ASSERT_TRUE(testing::WaitApplied(server_->address(), kInitiative).ok());
  EXPECT_EQ(Mentions(), 1200);
  EXPECT_TRUE(Materialize().ok());
}

// The applier's write of theme state fails on a full disk; RocksDB's own recovery makes the
// error fatal before space returns, so this recovers through the store's reopen too.
// The applier then replaces its model with the stored state (ThemeApplier, Initiative::stale)
// and applies the failed batch's records once.
TEST_F(StorageFaultTest, ThemeStateWriteFailureIsRetriedWithoutApplyingRecordsTwice) {
  storage::StoreOptions store_options;
  store_options.env = faults_.env.get();
  auto store = storage::Store::Open(dir_.Sub("data"), store_options);
  ASSERT_TRUE(store.ok()) << store.status();
  std::vector<storage::RecordToAppend> records;
  for (const IngestRequest& r : Records(0, 300)) {
    records.push_back(storage::RecordToAppend{kInitiative, storage::RecordKind::kFeedbackEvent,
                                              r.feedback_event().id(), r.SerializeAsString()});
  }
  ASSERT_TRUE((*store)->Append(records).ok());
  // The records are stored; the applier's first write of theme state fails.
  faults_.fs->FailAfterBytes(0);
  ThemeApplier applier(store->get());
  ASSERT_TRUE(applier.Start().ok());
  const absl::Time deadline = absl::Now() + kDeadline;
  while (faults_.fs->failed_operations() == 0 && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(20));
  }
  ASSERT_GT(faults_.fs->failed_operations(), 0u);
  faults_.fs->Heal();
  auto applied = applier.WaitApplied(kInitiative, 300, absl::Now() + kDeadline);
  ASSERT_TRUE(applied.ok()) << applied.status();
  int64_t mentions = 0;
  for (const auto& t : applier.Summaries(kInitiative)) mentions += t.mentions;
  EXPECT_EQ(mentions, 300);
  // The input counts were reloaded with the model: each record counts once.
  ASSERT_TRUE(applier.Inputs(kInitiative).has_value());
  EXPECT_EQ(applier.Inputs(kInitiative)->feedback_events(), 300);
  applier.Stop();
  // The stored theme state agrees: a new applier loads it.
  ThemeApplier reloaded(store->get());
  ASSERT_TRUE(reloaded.Start().ok());
  mentions = 0;
  for (const auto& t : reloaded.Summaries(kInitiative)) mentions += t.mentions;
  EXPECT_EQ(mentions, 300);
  ASSERT_TRUE(reloaded.Inputs(kInitiative).has_value());
  EXPECT_EQ(reloaded.Inputs(kInitiative)->feedback_events(), 300);
}

}  // namespace
}  // namespace fieldloop::services
