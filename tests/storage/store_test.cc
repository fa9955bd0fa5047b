#include "storage/store.h"

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/testing/temp_dir.h"

namespace fieldloop::storage {
namespace {

RecordToAppend Rec(std::string initiative, RecordKind kind, std::string id, std::string payload) {
  return RecordToAppend{std::move(initiative), kind, std::move(id), std::move(payload)};
}

std::unique_ptr<Store> OpenOrDie(const std::string& dir, StoreOptions options = {}) {
  auto store = Store::Open(dir, options);
  EXPECT_TRUE(store.ok()) << store.status();
  return store.ok() ? std::move(*store) : nullptr;
}

std::vector<StoredRecord> All(const Store& store, const std::string& initiative,
                              SequenceNumber after = 0) {
  std::vector<StoredRecord> out;
  absl::Status s = store.ScanEvents(initiative, after, [&](const StoredRecord& r) {
    out.push_back(r);
    return true;
  });
  EXPECT_TRUE(s.ok()) << s;
  return out;
}

TEST(Store, SequenceNumbersArePerInitiativeAndGapless) {
  testing::TempDir dir;
  auto store = OpenOrDie(dir.path());
  auto r = store->Append({Rec("a", RecordKind::kFeedbackEvent, "1", "x"),
                          Rec("b", RecordKind::kFeedbackEvent, "1", "y"),
                          Rec("a", RecordKind::kFeedbackEvent, "2", "z")});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ((*r)[0].sequence, 1u);
  EXPECT_EQ((*r)[1].sequence, 1u);
  EXPECT_EQ((*r)[2].sequence, 2u);
  auto r2 = store->Append({Rec("a", RecordKind::kWinLossNote, "1", "w")});
  ASSERT_TRUE(r2.ok());
  EXPECT_EQ((*r2)[0].sequence, 3u);
  EXPECT_EQ(store->LastSequence("a"), 3u);
  EXPECT_EQ(store->LastSequence("b"), 1u);
  EXPECT_EQ(store->LastSequence("none"), 0u);

  std::vector<StoredRecord> a = All(*store, "a");
  ASSERT_EQ(a.size(), 3u);
  EXPECT_EQ(a[0].payload, "x");
  EXPECT_EQ(a[1].payload, "z");
  EXPECT_EQ(a[2].payload, "w");
  EXPECT_EQ(a[2].kind, RecordKind::kWinLossNote);
  EXPECT_EQ(All(*store, "a", 2).size(), 1u);
  EXPECT_EQ(store->Initiatives(), (std::vector<std::string>{"a", "b"}));
}

TEST(Store, DuplicateIdIsReportedAndChangesNothing) {
  testing::TempDir dir;
  auto store = OpenOrDie(dir.path());
  ASSERT_TRUE(store->Append({Rec("a", RecordKind::kFeedbackEvent, "fb-1", "first")}).ok());
  auto r = store->Append({Rec("a", RecordKind::kFeedbackEvent, "fb-1", "second"),
                          Rec("a", RecordKind::kCallTranscript, "fb-1", "other kind")});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)[0].outcome, AppendOutcome::kDuplicate);
  EXPECT_EQ((*r)[0].sequence, 1u);
  EXPECT_EQ((*r)[1].outcome, AppendOutcome::kAccepted);  // Identity includes the kind.
  EXPECT_EQ((*r)[1].sequence, 2u);
  std::vector<StoredRecord> a = All(*store, "a");
  ASSERT_EQ(a.size(), 2u);
  EXPECT_EQ(a[0].payload, "first");
  auto looked = store->Lookup("a", RecordKind::kFeedbackEvent, "fb-1");
  ASSERT_TRUE(looked.ok());
  EXPECT_EQ(looked->payload, "first");
}

TEST(Store, DuplicateWithinOneBatchIsReported) {
  testing::TempDir dir;
  auto store = OpenOrDie(dir.path());
  auto r = store->Append({Rec("a", RecordKind::kFeedbackEvent, "x", "1"),
                          Rec("a", RecordKind::kFeedbackEvent, "x", "2")});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)[0].outcome, AppendOutcome::kAccepted);
  EXPECT_EQ((*r)[1].outcome, AppendOutcome::kDuplicate);
  EXPECT_EQ((*r)[1].sequence, 1u);
  EXPECT_EQ(store->LastSequence("a"), 1u);
}

TEST(Store, StateKindsReplaceOnChangedPayloadOnly) {
  testing::TempDir dir;
  auto store = OpenOrDie(dir.path());
  ASSERT_TRUE(store->Append({Rec("a", RecordKind::kContentAsset, "deck-1", "v1")}).ok());
  auto same = store->Append({Rec("a", RecordKind::kContentAsset, "deck-1", "v1")});
  ASSERT_TRUE(same.ok());
  EXPECT_EQ((*same)[0].outcome, AppendOutcome::kDuplicate);
  auto changed = store->Append({Rec("a", RecordKind::kContentAsset, "deck-1", "v2")});
  ASSERT_TRUE(changed.ok());
  EXPECT_EQ((*changed)[0].outcome, AppendOutcome::kAccepted);
  EXPECT_EQ((*changed)[0].sequence, 2u);
  auto looked = store->Lookup("a", RecordKind::kContentAsset, "deck-1");
  ASSERT_TRUE(looked.ok());
  EXPECT_EQ(looked->payload, "v2");
}

TEST(Store, ReopenKeepsRecordsAndContinuesSequences) {
  testing::TempDir dir;
  {
    auto store = OpenOrDie(dir.path());
    for (int i = 0; i < 100; ++i) {
      ASSERT_TRUE(
          store->Append({Rec("a", RecordKind::kFeedbackEvent, std::to_string(i), "p")}).ok());
    }
  }
  auto store = OpenOrDie(dir.path());
  EXPECT_EQ(store->LastSequence("a"), 100u);
  EXPECT_EQ(All(*store, "a").size(), 100u);
  auto dup = store->Append({Rec("a", RecordKind::kFeedbackEvent, "5", "p")});
  ASSERT_TRUE(dup.ok());
  EXPECT_EQ((*dup)[0].outcome, AppendOutcome::kDuplicate);
  EXPECT_EQ((*dup)[0].sequence, 6u);
  auto next = store->Append({Rec("a", RecordKind::kFeedbackEvent, "new", "p")});
  ASSERT_TRUE(next.ok());
  EXPECT_EQ((*next)[0].sequence, 101u);
  EXPECT_EQ(store->schema_version(), kSchemaVersion);
}

TEST(Store, InvalidBatchIsAllOrNothing) {
  testing::TempDir dir;
  auto store = OpenOrDie(dir.path());
  auto r = store->Append({Rec("a", RecordKind::kFeedbackEvent, "ok", "p"),
                          Rec("a", RecordKind::kFeedbackEvent, "", "empty id")});
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(store->LastSequence("a"), 0u);
  EXPECT_TRUE(All(*store, "a").empty());
  // The identity of the first record was not used up.
  auto again = store->Append({Rec("a", RecordKind::kFeedbackEvent, "ok", "p")});
  ASSERT_TRUE(again.ok());
  EXPECT_EQ((*again)[0].outcome, AppendOutcome::kAccepted);
  EXPECT_EQ((*again)[0].sequence, 1u);
}

TEST(Store, BadRecordInAnotherInitiativeFailsTheWholeBatch) {
  testing::TempDir dir;
  auto store = OpenOrDie(dir.path());
  ASSERT_TRUE(store->Append({Rec("a", RecordKind::kFeedbackEvent, "1", "p")}).ok());
  // A batch with a record in a second initiative that is invalid fails before writing:
  auto bad = store->Append({Rec("a", RecordKind::kFeedbackEvent, "2", "p"),
                            Rec(std::string("b\0c", 3), RecordKind::kFeedbackEvent, "3", "p")});
  EXPECT_FALSE(bad.ok());
  EXPECT_EQ(store->LastSequence("a"), 1u);
  EXPECT_EQ(All(*store, "a").size(), 1u);
}

TEST(Store, CheckpointIsAnOpenableCopy) {
  testing::TempDir dir;
  auto store = OpenOrDie(dir.Sub("db"));
  ASSERT_TRUE(store
                  ->Append({Rec("a", RecordKind::kFeedbackEvent, "1", "p"),
                            Rec("a", RecordKind::kFeedbackEvent, "2", "q")})
                  .ok());
  ASSERT_TRUE(store->Checkpoint(dir.Sub("backup")).ok());
  ASSERT_TRUE(store->Append({Rec("a", RecordKind::kFeedbackEvent, "3", "r")}).ok());
  auto copy = OpenOrDie(dir.Sub("backup"));
  EXPECT_EQ(copy->LastSequence("a"), 2u);
  EXPECT_EQ(All(*copy, "a").size(), 2u);
}

TEST(Store, StatsReportSstBytesOnceFlushedAndStallTimeOnlyWithStatistics) {
  testing::TempDir dir;
  {
    auto store = OpenOrDie(dir.path());
    ASSERT_TRUE(
        store->Append({Rec("a", RecordKind::kFeedbackEvent, "1", std::string(4096, 'x'))}).ok());
    const StoreStats stats = store->Stats();
    EXPECT_EQ(stats.sst_files_bytes, 0u);  // Still in the memtable.
    EXPECT_FALSE(stats.writes_stopped);
  }
  StoreOptions options;
  options.collect_statistics = true;
  auto store = OpenOrDie(dir.path(), options);  // Recovery writes the log into an SST file.
  const StoreStats stats = store->Stats();
  uintmax_t on_disk = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir.path())) {
    if (e.path().extension() == ".sst") on_disk += e.file_size();
  }
  EXPECT_GT(stats.sst_files_bytes, 0u);
  EXPECT_EQ(stats.sst_files_bytes, on_disk);
  EXPECT_GT(stats.live_data_bytes, 0u);
  EXPECT_EQ(stats.write_stall_micros, 0u);  // Nothing stalls a single small write.
}

TEST(Store, RefusesNewerSchema) {
  testing::TempDir dir;
  { auto store = OpenOrDie(dir.path()); }
  {
    // Write a newer schema version through RocksDB directly.
    rocksdb::DB* raw = nullptr;
    rocksdb::Options o;
    std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
    for (const char* n :
         {"default", "events", "ids", "assets", "metrics", "themes", "tasks", "meta"}) {
      cfs.emplace_back(n, rocksdb::ColumnFamilyOptions());
    }
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    ASSERT_TRUE(rocksdb::DB::Open(o, dir.path(), cfs, &handles, &raw).ok());
    ASSERT_TRUE(raw->Put(rocksdb::WriteOptions(), handles.back(), "schema_version", "99").ok());
    for (auto* h : handles) raw->DestroyColumnFamilyHandle(h);
    delete raw;
  }
  auto store = Store::Open(dir.path(), {});
  EXPECT_EQ(store.status().code(), absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace fieldloop::storage
