#include "storage/store.h"

#include <atomic>
#include <filesystem>
#include <fstream>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/files.h"
#include "tests/testing/temp_dir.h"

namespace fieldloop::storage {
namespace {

using ::testing::HasSubstr;
using testing::ReadFile;

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

TEST(Store, CheckpointIsAnOpenableCopyOfWhatWasAppendedBeforeIt) {
  testing::TempDir dir;
  auto store = OpenOrDie(dir.Sub("db"));
  ASSERT_TRUE(store
                  ->Append({Rec("a", RecordKind::kFeedbackEvent, "1", "p"),
                            Rec("a", RecordKind::kFeedbackEvent, "2", "q"),
                            Rec("b", RecordKind::kContentAsset, "deck", "v1")})
                  .ok());
  ASSERT_TRUE(store->WriteThemeState("a", {{"g", "globals"}}, 1).ok());
  absl::StatusOr<CheckpointInfo> info = store->Checkpoint(dir.Sub("backups/b1"));
  ASSERT_TRUE(info.ok()) << info.status();
  ASSERT_TRUE(store->Append({Rec("a", RecordKind::kFeedbackEvent, "3", "r")}).ok());

  EXPECT_EQ(info->dir, std::filesystem::canonical(dir.Sub("backups/b1")).string());
  EXPECT_EQ(info->schema_version, kSchemaVersion);
  ASSERT_EQ(info->initiatives.size(), 2u);
  EXPECT_EQ(info->initiatives[0].initiative, "a");
  EXPECT_EQ(info->initiatives[0].last_sequence, 2u);
  EXPECT_EQ(info->initiatives[0].applied_sequence, 1u);
  EXPECT_EQ(info->initiatives[1].initiative, "b");
  EXPECT_EQ(info->initiatives[1].last_sequence, 1u);
  EXPECT_EQ(info->initiatives[1].applied_sequence, 0u);
  uintmax_t on_disk = 0;
  for (const auto& e : std::filesystem::recursive_directory_iterator(info->dir)) {
    if (e.is_regular_file()) on_disk += e.file_size();
  }
  EXPECT_GT(info->bytes, 0u);
  EXPECT_EQ(info->bytes, on_disk);

  auto copy = OpenOrDie(info->dir);
  EXPECT_EQ(copy->LastSequence("a"), 2u);
  EXPECT_EQ(All(*copy, "a").size(), 2u);
  EXPECT_EQ(copy->Lookup("b", RecordKind::kContentAsset, "deck")->payload, "v1");
  EXPECT_EQ(*copy->AppliedSequence("a"), 1u);
  std::string globals;
  ASSERT_TRUE(copy->ScanThemeState("a",
                                   [&](absl::string_view k, absl::string_view v) {
                                     if (k == "g") globals = std::string(v);
                                   })
                  .ok());
  EXPECT_EQ(globals, "globals");
}

TEST(Store, CheckpointTakenDuringAppendsIsAPointInTime) {
  testing::TempDir dir;
  auto store = OpenOrDie(dir.Sub("db"));
  std::atomic<bool> stop{false};
  std::thread writer([&] {
    for (int i = 0; !stop; ++i) {
      ASSERT_TRUE(store
                      ->Append({Rec("a", RecordKind::kFeedbackEvent, std::to_string(i), "p"),
                                Rec("b", RecordKind::kFeedbackEvent, std::to_string(i), "q")})
                      .ok());
    }
  });
  while (store->LastSequence("a") < 1000) std::this_thread::yield();
  const SequenceNumber before = store->LastSequence("a");
  absl::StatusOr<CheckpointInfo> info = store->Checkpoint(dir.Sub("copy"));
  stop = true;
  writer.join();
  ASSERT_TRUE(info.ok()) << info.status();
  ASSERT_EQ(info->initiatives.size(), 2u);
  // Each batch wrote one record of each initiative: a point in time has as many of both.
  EXPECT_GE(info->initiatives[0].last_sequence, before);
  EXPECT_EQ(info->initiatives[0].last_sequence, info->initiatives[1].last_sequence);
  auto copy = OpenOrDie(info->dir);
  for (const char* initiative : {"a", "b"}) {
    std::vector<StoredRecord> records = All(*copy, initiative);
    ASSERT_EQ(records.size(), info->initiatives[0].last_sequence) << initiative;
    EXPECT_EQ(copy->LastSequence(initiative), records.size());
    EXPECT_EQ(records.back().sequence, records.size());
  }
}

TEST(Store, CheckpointRefusesAnExistingDirectoryOrOneInsideTheStore) {
  testing::TempDir dir;
  auto store = OpenOrDie(dir.Sub("db"));
  ASSERT_TRUE(store->Append({Rec("a", RecordKind::kFeedbackEvent, "1", "p")}).ok());
  std::filesystem::create_directories(dir.Sub("taken"));
  std::ofstream(dir.Sub("taken/keep.txt")) << "mine";

  absl::StatusOr<CheckpointInfo> taken = store->Checkpoint(dir.Sub("taken"));
  EXPECT_EQ(taken.status().code(), absl::StatusCode::kAlreadyExists) << taken.status();
  EXPECT_THAT(std::string(taken.status().message()), HasSubstr("already exists"));
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir.Sub("taken")), {}), 1);

  for (const std::string& inside :
       {dir.Sub("db"), dir.Sub("db/"), dir.Sub("db/backup"), dir.Sub("other/../db/x")}) {
    absl::StatusOr<CheckpointInfo> refused = store->Checkpoint(inside);
    EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument) << inside;
    EXPECT_THAT(std::string(refused.status().message()), HasSubstr("is inside the data dir"));
  }
  EXPECT_FALSE(std::filesystem::exists(dir.Sub("db/backup")));
  EXPECT_FALSE(std::filesystem::exists(dir.Sub("other")));

  // RocksDB stages a checkpoint in "<dir>.tmp" and first deletes the files of one that
  // exists: refused, so that nobody's files go.
  std::filesystem::create_directories(dir.Sub("b1.tmp"));
  std::ofstream(dir.Sub("b1.tmp/keep.txt")) << "mine";
  absl::StatusOr<CheckpointInfo> staging = store->Checkpoint(dir.Sub("b1"));
  EXPECT_EQ(staging.status().code(), absl::StatusCode::kAlreadyExists) << staging.status();
  EXPECT_THAT(std::string(staging.status().message()), HasSubstr("b1.tmp"));
  EXPECT_EQ(ReadFile(dir.Sub("b1.tmp/keep.txt")), "mine");
  EXPECT_FALSE(std::filesystem::exists(dir.Sub("b1")));
  // A name that only starts like the store's directory is outside it.
  EXPECT_TRUE(store->Checkpoint(dir.Sub("db-backup")).ok());
}

TEST(Store, StatsReportSstBytesOnceFlushedAndStallTimeOnlyWithStatistics) {
  testing::TempDir dir;
  {
    auto store = OpenOrDie(dir.Sub("db"));
    ASSERT_TRUE(
        store->Append({Rec("a", RecordKind::kFeedbackEvent, "1", std::string(4096, 'x'))}).ok());
    const StoreStats stats = store->Stats();
    EXPECT_EQ(stats.sst_files_bytes, 0u);  // Still in the memtable.
    EXPECT_FALSE(stats.writes_stopped);
  }
  StoreOptions options;
  options.collect_statistics = true;
  // Recovery replays the log into the memtables (no flush at open); a checkpoint flushes them.
  auto store = OpenOrDie(dir.Sub("db"), options);
  EXPECT_EQ(store->Stats().sst_files_bytes, 0u);
  ASSERT_TRUE(store->Checkpoint(dir.Sub("copy")).ok());
  const StoreStats stats = store->Stats();
  uintmax_t on_disk = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir.Sub("db"))) {
    if (e.path().extension() == ".sst") on_disk += e.file_size();
  }
  EXPECT_GT(stats.sst_files_bytes, 0u);
  EXPECT_EQ(stats.sst_files_bytes, on_disk);
  EXPECT_GT(stats.live_data_bytes, 0u);
  EXPECT_EQ(stats.write_stall_micros, 0u);  // Nothing stalls a single small write.
}

// Opens `dir` with RocksDB directly (every column family of the store), for tests that
// write what the store never would.
class RawDb {
 public:
  explicit RawDb(const std::string& dir) {
    rocksdb::Options o;
    o.create_if_missing = true;
    o.create_missing_column_families = true;
    std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
    for (const char* n :
         {"default", "events", "ids", "assets", "metrics", "themes", "tasks", "meta"}) {
      cfs.emplace_back(n, rocksdb::ColumnFamilyOptions());
    }
    rocksdb::DB* raw = nullptr;
    status_ = rocksdb::DB::Open(o, dir, cfs, &handles_, &raw);
    db_.reset(raw);
  }
  ~RawDb() {
    for (auto* h : handles_) db_->DestroyColumnFamilyHandle(h);
  }
  bool ok() const { return status_.ok(); }
  rocksdb::Status PutMeta(const std::string& key, const std::string& value) {
    return db_->Put(rocksdb::WriteOptions(), handles_.back(), key, value);
  }
  // The meta value under `key`, "<none>" when missing.
  std::string GetMeta(const std::string& key) {
    std::string value;
    rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), handles_.back(), key, &value);
    return s.ok() ? value : "<none>";
  }

 private:
  rocksdb::Status status_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
  std::unique_ptr<rocksdb::DB> db_;
};

TEST(Store, NewStoreIsStampedWithTheCurrentSchemaVersion) {
  testing::TempDir dir;
  { EXPECT_EQ(OpenOrDie(dir.path())->schema_version(), kSchemaVersion); }
  RawDb raw(dir.path());
  ASSERT_TRUE(raw.ok());
  EXPECT_EQ(raw.GetMeta("schema_version"), "1");
}

TEST(Store, StoreMadeBeforeSchemaVersionsIsStampedOneAndKeepsItsData) {
  testing::TempDir dir;
  {
    // A store as builds before the schema version wrote it: data, no schema_version.
    RawDb raw(dir.path());
    ASSERT_TRUE(raw.ok());
    ASSERT_TRUE(raw.PutMeta(LastSequenceKey("a"), std::string("\0\0\0\0\0\0\0\7", 8)).ok());
  }
  {
    auto store = OpenOrDie(dir.path());
    EXPECT_EQ(store->schema_version(), 1);
    EXPECT_EQ(store->LastSequence("a"), 7u);
  }
  RawDb raw(dir.path());
  ASSERT_TRUE(raw.ok());
  EXPECT_EQ(raw.GetMeta("schema_version"), "1");
}

TEST(Store, RefusesNewerSchemaNamingBothVersionsAndWritesNothing) {
  testing::TempDir dir;
  { auto store = OpenOrDie(dir.path()); }
  {
    RawDb raw(dir.path());
    ASSERT_TRUE(raw.ok());
    ASSERT_TRUE(raw.PutMeta("schema_version", "3").ok());
  }
  auto store = Store::Open(dir.path(), {});
  EXPECT_EQ(store.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(store.status().message(),
            "data dir " + dir.path() +
                " has storage schema 3; this fieldloopd reads up to 1: upgrade fieldloopd");
  RawDb raw(dir.path());
  ASSERT_TRUE(raw.ok());
  EXPECT_EQ(raw.GetMeta("schema_version"), "3");
}

TEST(Store, UnreadableSchemaVersionIsDataLoss) {
  for (const char* bad : {"one", "0", "-1", ""}) {
    testing::TempDir dir;
    {
      RawDb raw(dir.path());
      ASSERT_TRUE(raw.ok());
      ASSERT_TRUE(raw.PutMeta("schema_version", bad).ok());
    }
    auto store = Store::Open(dir.path(), {});
    EXPECT_EQ(store.status().code(), absl::StatusCode::kDataLoss) << bad;
    EXPECT_THAT(std::string(store.status().message()), HasSubstr("bad storage schema version"));
  }
}

// A crash loop restarts the store again and again; each start must not add level-0 files
// (RocksDB stops writes at 36 of them), so the write-ahead log is replayed, not flushed.
TEST(Store, ReopeningReplaysTheLogWithoutWritingNewTableFiles) {
  testing::TempDir dir;
  for (int start = 0; start < 12; ++start) {
    auto store = OpenOrDie(dir.path());
    ASSERT_NE(store, nullptr);
    ASSERT_EQ(store->LastSequence("a"), static_cast<SequenceNumber>(start));
    ASSERT_TRUE(
        store->Append({Rec("a", RecordKind::kFeedbackEvent, absl::StrCat(start), "x")}).ok());
  }
  int sst_files = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir.path())) {
    if (e.path().extension() == ".sst") ++sst_files;
  }
  EXPECT_EQ(sst_files, 0);
  auto store = OpenOrDie(dir.path());
  EXPECT_EQ(store->LastSequence("a"), 12u);
}

}  // namespace
}  // namespace fieldloop::storage

namespace fieldloop::storage {
namespace {

// StoreOptions::block_cache_bytes and write_buffer_bytes bound RocksDB's memory however much
// is written and read: 40 MiB of records through a 16 MiB memtable budget and a 1 MiB block
// cache, every record read back. The memtables never hold more than 1.32 times the budget
// (either the memtable sizes shared out of it or the WriteBufferManager keeps them there;
// with neither, a fixed 32 MiB events memtable held 40 MiB), and table readers hold only
// their own few KiB (16 KiB here; with RocksDB's default whole index kept outside the cache,
// as before, 230 KiB, growing with the data).
TEST(Store, MemtablesStayWithinTheirBudgetAndIndexesInTheCache) {
  testing::TempDir dir;
  StoreOptions options;
  options.write_buffer_bytes = size_t{16} << 20;
  options.block_cache_bytes = size_t{1} << 20;
  auto store = OpenOrDie(dir.Sub("db"), options);
  // Incompressible payloads: 40 MiB on disk too.
  std::mt19937_64 rng(7);
  std::string payload(4000, ' ');
  constexpr int kRecords = 10000;
  uint64_t most_memtable = 0;
  for (int batch = 0; batch < kRecords / 100; ++batch) {
    std::vector<RecordToAppend> records;
    for (int i = 0; i < 100; ++i) {
      for (char& c : payload) c = static_cast<char>(rng());
      records.push_back(Rec("a", RecordKind::kFeedbackEvent, absl::StrCat(batch * 100 + i),
                            absl::StrCat(batch * 100 + i, payload)));
    }
    ASSERT_TRUE(store->Append(records).ok());
    most_memtable = std::max(most_memtable, store->Stats().memtable_bytes);
  }
  int64_t seen = 0;
  ASSERT_TRUE(store
                  ->ScanEvents("a", 0,
                               [&](const StoredRecord& r) {
                                 ++seen;
                                 return r.payload.size() > payload.size();
                               })
                  .ok());
  EXPECT_EQ(seen, kRecords);
  const StoreStats stats = store->Stats();
  EXPECT_GT(stats.sst_files_bytes, uint64_t{20} << 20);  // Most of it was flushed.
  EXPECT_LE(most_memtable, options.write_buffer_bytes * 132 / 100);
  EXPECT_GT(stats.block_cache_bytes, 0u);
  EXPECT_LT(stats.table_readers_bytes, uint64_t{64} << 10);
}

}  // namespace
}  // namespace fieldloop::storage
