// Theme state wiring: records are applied in sequence order, theme state and the applied
// watermark are written together, and a restart replays exactly what follows the
// watermark. Real server on 127.0.0.1:0, real RocksDB in a temp dir.
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "pipeline/theme_model.h"
#include "services/server.h"
#include "tests/testing/example_records.h"
#include "tests/testing/ingest_client.h"
#include "tests/testing/temp_dir.h"

namespace fieldloop::services {
namespace {

using fieldloop::v1::IngestRequest;

// What the themes must be: the same records through one model, in order.
std::vector<pipeline::ThemeSummary> Expected(const std::vector<IngestRequest>& records) {
  pipeline::ThemeModel model;
  for (const IngestRequest& r : records) model.Apply(r);
  return model.Summaries();
}

void ExpectSameThemes(const std::vector<pipeline::ThemeSummary>& got,
                      const std::vector<pipeline::ThemeSummary>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].id, want[i].id);
    EXPECT_EQ(got[i].label, want[i].label);
    EXPECT_EQ(got[i].mentions, want[i].mentions) << got[i].label;
    EXPECT_EQ(got[i].by_quarter, want[i].by_quarter);
    EXPECT_EQ(got[i].lost_deals, want[i].lost_deals);
  }
}

class ThemeApplierTest : public ::testing::Test {
 protected:
  void Start(bool apply_themes = true) {
    ServerOptions options;
    options.listen = "127.0.0.1:0";
    options.data_dir = dir_.Sub("data");
    options.apply_themes = apply_themes;
    auto server = FieldloopServer::Start(options);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
  }

  // Calls Ingest.WaitApplied over gRPC.
  grpc::Status WaitApplied(const std::string& initiative, uint64_t* applied) {
    auto stub = testing::IngestStub(server_->address());
    grpc::ClientContext context;
    fieldloop::v1::WaitAppliedRequest request;
    request.set_initiative(initiative);
    request.set_timeout_ms(60000);
    fieldloop::v1::WaitAppliedResponse response;
    grpc::Status s = stub->WaitApplied(&context, request, &response);
    *applied = response.applied_sequence();
    return s;
  }

  // Appends records straight to the store, as if the server had acked them and crashed
  // before applying them.
  void AppendWithoutApplying(const std::vector<IngestRequest>& records) {
    auto store = storage::Store::Open(dir_.Sub("data"), {});
    ASSERT_TRUE(store.ok()) << store.status();
    std::vector<storage::RecordToAppend> batch;
    for (const IngestRequest& r : records) {
      batch.push_back(ToAppend(pipeline::IdentityOf(r), r.SerializeAsString()));
    }
    ASSERT_TRUE((*store)->Append(batch).ok());
  }

  testing::TempDir dir_;
  std::unique_ptr<FieldloopServer> server_;
};

TEST_F(ThemeApplierTest, IngestedRecordsAreAppliedInOrderAndWaitAppliedSaysWhen) {
  const std::vector<IngestRequest> records = testing::ExampleRecords();
  Start();
  testing::StreamResult r = testing::StreamAll(server_->address(), records);
  ASSERT_EQ(r.acks.size(), records.size());
  uint64_t applied = 0;
  ASSERT_TRUE(WaitApplied("q3-push", &applied).ok());
  EXPECT_EQ(applied, records.size());
  ExpectSameThemes(server_->applier().Summaries("q3-push"), Expected(records));
}

TEST_F(ThemeApplierTest, RecordsAckedButNotAppliedBeforeACrashAreReplayedOnce) {
  const std::vector<IngestRequest> records = testing::ExampleRecords();
  const size_t half = records.size() / 2;
  // First half through the server and applied.
  Start();
  std::vector<IngestRequest> first(records.begin(), records.begin() + half);
  ASSERT_EQ(testing::StreamAll(server_->address(), first).acks.size(), half);
  uint64_t applied = 0;
  ASSERT_TRUE(WaitApplied("q3-push", &applied).ok());
  server_.reset();
  // Second half stored but never applied (the crash window).
  AppendWithoutApplying(std::vector<IngestRequest>(records.begin() + half, records.end()));
  Start();
  ASSERT_TRUE(WaitApplied("q3-push", &applied).ok());
  EXPECT_EQ(applied, records.size());
  EXPECT_EQ(server_->applier().stats().replayed, records.size() - half);
  ExpectSameThemes(server_->applier().Summaries("q3-push"), Expected(records));
  // Another restart replays nothing and changes nothing.
  server_.reset();
  Start();
  ASSERT_TRUE(WaitApplied("q3-push", &applied).ok());
  EXPECT_EQ(server_->applier().stats().replayed, 0u);
  ExpectSameThemes(server_->applier().Summaries("q3-push"), Expected(records));
}

TEST_F(ThemeApplierTest, DuplicatesDoNotCountTwice) {
  const std::vector<IngestRequest> records = testing::ExampleRecords();
  Start();
  testing::StreamAll(server_->address(), records);
  testing::StreamAll(server_->address(), records);
  uint64_t applied = 0;
  ASSERT_TRUE(WaitApplied("q3-push", &applied).ok());
  EXPECT_EQ(applied, records.size());
  ExpectSameThemes(server_->applier().Summaries("q3-push"), Expected(records));
}

TEST_F(ThemeApplierTest, IngestOnlyServerSaysItKeepsNoThemesAndALaterServerAppliesAll) {
  const std::vector<IngestRequest> records = testing::ExampleRecords();
  Start(/*apply_themes=*/false);
  ASSERT_EQ(testing::StreamAll(server_->address(), records).acks.size(), records.size());
  uint64_t applied = 0;
  EXPECT_EQ(WaitApplied("q3-push", &applied).error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  server_.reset();
  Start();
  ASSERT_TRUE(WaitApplied("q3-push", &applied).ok());
  EXPECT_EQ(server_->applier().stats().replayed, records.size());
  ExpectSameThemes(server_->applier().Summaries("q3-push"), Expected(records));
}

TEST_F(ThemeApplierTest, WaitAppliedRejectsABadInitiative) {
  Start();
  uint64_t applied = 0;
  EXPECT_EQ(WaitApplied("../etc", &applied).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  // An initiative without records is trivially applied.
  EXPECT_TRUE(WaitApplied("empty", &applied).ok());
  EXPECT_EQ(applied, 0u);
}

}  // namespace
}  // namespace fieldloop::services
