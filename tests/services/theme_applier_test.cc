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
#include "pipeline/input_counts.h"
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

// What the theme state must count of `records` (pipeline/input_counts.h), serialized.
std::string Counted(const std::vector<IngestRequest>& records) {
  state::InputCounts counts;
  for (const IngestRequest& r : records) pipeline::CountInput(r, &counts);
  return counts.SerializeAsString();
}

// Serialized counts; "none" for nullopt.
std::string Serialized(const std::optional<state::InputCounts>& counts) {
  return counts ? counts->SerializeAsString() : "none";
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

  // The input counts stored in the theme state of `initiative` (ClustererGlobals.inputs,
  // key "g": docs/storage.md), serialized; "none" when not stored. With `clear`, stores the
  // state without them, as a build that kept none wrote it. The server must be stopped.
  std::string StoredInputs(const std::string& initiative, bool clear = false) {
    auto store = storage::Store::Open(dir_.Sub("data"), {});
    EXPECT_TRUE(store.ok()) << store.status();
    if (!store.ok()) return "unreadable";
    state::ClustererGlobals globals;
    EXPECT_TRUE((*store)
                    ->ScanThemeState(initiative,
                                     [&](absl::string_view key, absl::string_view value) {
                                       if (key == "g") {
                                         EXPECT_TRUE(globals.ParseFromArray(
                                             value.data(), static_cast<int>(value.size())));
                                       }
                                     })
                    .ok());
    const std::string stored = globals.has_inputs() ? globals.inputs().SerializeAsString() : "none";
    if (clear) {
      globals.clear_inputs();
      absl::StatusOr<storage::SequenceNumber> applied = (*store)->AppliedSequence(initiative);
      EXPECT_TRUE(applied.ok() && *applied > 0);
      EXPECT_TRUE((*store)
                      ->WriteThemeState(initiative, {{"g", globals.SerializeAsString()}},
                                        applied.ok() ? *applied : 0)
                      .ok());
    }
    return stored;
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

TEST_F(ThemeApplierTest, InputCountsFollowTheAppliedRecordsAndSurviveARestart) {
  const std::vector<IngestRequest> records = testing::AllExampleRecords();
  Start();
  ASSERT_EQ(testing::StreamAll(server_->address(), records).acks.size(), records.size());
  uint64_t applied = 0;
  ASSERT_TRUE(WaitApplied("q3-push", &applied).ok());
  EXPECT_EQ(Serialized(server_->applier().Inputs("q3-push")), Counted(records));
  EXPECT_EQ(Serialized(server_->applier().Inputs("no-such-initiative")), "none");
  server_.reset();
  EXPECT_EQ(StoredInputs("q3-push"), Counted(records));
  Start();
  ASSERT_TRUE(WaitApplied("q3-push", &applied).ok());
  EXPECT_EQ(server_->applier().stats().replayed, 0u);
  EXPECT_EQ(Serialized(server_->applier().Inputs("q3-push")), Counted(records));
  // An ingest-only server keeps no counts that follow new records: the board scans.
  server_.reset();
  Start(/*apply_themes=*/false);
  EXPECT_EQ(Serialized(server_->applier().Inputs("q3-push")), "none");
}

TEST_F(ThemeApplierTest, StateWithoutInputCountsGetsThemCountedOnceWhenLoaded) {
  const std::vector<IngestRequest> records = testing::AllExampleRecords();
  const size_t half = records.size() / 2;
  const std::vector<IngestRequest> first(records.begin(), records.begin() + half);
  Start();
  ASSERT_EQ(testing::StreamAll(server_->address(), first).acks.size(), half);
  uint64_t applied = 0;
  ASSERT_TRUE(WaitApplied("q3-push", &applied).ok());
  server_.reset();
  ASSERT_EQ(StoredInputs("q3-push", /*clear=*/true), Counted(first));
  ASSERT_EQ(StoredInputs("q3-push"), "none");

  // Nothing to replay: counted from the log at load, and stored at once.
  Start();
  ASSERT_TRUE(WaitApplied("q3-push", &applied).ok());
  EXPECT_EQ(server_->applier().stats().applied, 0u);
  EXPECT_EQ(Serialized(server_->applier().Inputs("q3-push")), Counted(first));
  server_.reset();
  EXPECT_EQ(StoredInputs("q3-push", /*clear=*/true), Counted(first));

  // Records after the watermark: counted up to it at load, the replay counts the rest.
  AppendWithoutApplying(std::vector<IngestRequest>(records.begin() + half, records.end()));
  Start();
  ASSERT_TRUE(WaitApplied("q3-push", &applied).ok());
  EXPECT_EQ(server_->applier().stats().replayed, records.size() - half);
  EXPECT_EQ(Serialized(server_->applier().Inputs("q3-push")), Counted(records));
  ExpectSameThemes(server_->applier().Summaries("q3-push"), Expected(records));
  server_.reset();
  EXPECT_EQ(StoredInputs("q3-push"), Counted(records));
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
