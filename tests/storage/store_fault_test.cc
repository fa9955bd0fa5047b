// Storage faults: the fault-injecting file system itself, and a Store on it losing and
// regaining the ability to write (a full write-ahead log, a failed flush), with nothing
// acknowledged lost and nothing stored twice.
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rocksdb/file_system.h"
#include "storage/fault_injection_fs.h"
#include "storage/store.h"
#include "tests/testing/temp_dir.h"

namespace fieldloop::storage {
namespace {

using ::testing::HasSubstr;

// Generous: recovery waits at most about a second between attempts, but the machine is busy.
constexpr absl::Duration kRecoveryDeadline = absl::Seconds(60);

// Opens `dir`/name for writing through `fs`.
std::unique_ptr<rocksdb::FSWritableFile> NewFile(rocksdb::FileSystem& fs, const std::string& path,
                                                 rocksdb::IOStatus* status) {
  std::unique_ptr<rocksdb::FSWritableFile> file;
  *status = fs.NewWritableFile(path, rocksdb::FileOptions(), &file, nullptr);
  return file;
}

rocksdb::IOStatus Append(rocksdb::FSWritableFile& file, const std::string& data) {
  return file.Append(data, rocksdb::IOOptions(), nullptr);
}

TEST(FaultInjectionFs, FailsWritesOnceTheBudgetIsUsedUpAndHeals) {
  testing::TempDir dir;
  FaultInjectionFs fs;
  rocksdb::IOStatus s;
  auto file = NewFile(fs, dir.Sub("a.log"), &s);
  ASSERT_TRUE(s.ok()) << s.ToString();
  ASSERT_TRUE(Append(*file, "0123456789").ok());  // Not armed: no limit.

  fs.FailAfterBytes(15);
  EXPECT_TRUE(Append(*file, "0123456789").ok());  // 10 of 15.
  EXPECT_FALSE(fs.exhausted());
  s = Append(*file, "0123456789");  // Does not fit the 5 left.
  EXPECT_TRUE(s.IsNoSpace()) << s.ToString();
  EXPECT_TRUE(fs.exhausted());
  // Once full, everything that writes fails, small writes and syncs included, in new files
  // too (which can still be created, as on a real full disk).
  EXPECT_TRUE(Append(*file, "x").IsNoSpace());
  EXPECT_TRUE(file->Sync(rocksdb::IOOptions(), nullptr).IsNoSpace());
  auto other = NewFile(fs, dir.Sub("b.log"), &s);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_TRUE(Append(*other, "x").IsNoSpace());
  EXPECT_EQ(fs.failed_operations(), 4u);
  EXPECT_EQ(fs.bytes_written(), 20u);

  fs.Heal();
  EXPECT_FALSE(fs.exhausted());
  EXPECT_TRUE(Append(*file, "0123456789").ok());
  EXPECT_TRUE(file->Sync(rocksdb::IOOptions(), nullptr).ok());
  ASSERT_TRUE(file->Close(rocksdb::IOOptions(), nullptr).ok());
  // What failed was not written: 10 + 10 + 10 bytes.
  uint64_t size = 0;
  ASSERT_TRUE(fs.GetFileSize(dir.Sub("a.log"), rocksdb::IOOptions(), &size, nullptr).ok());
  EXPECT_EQ(size, 30u);
}

TEST(FaultInjectionFs, FiltersBySuffixAndReportsIoErrors) {
  testing::TempDir dir;
  FaultInjectionFs fs;
  rocksdb::IOStatus s;
  auto log = NewFile(fs, dir.Sub("000001.log"), &s);
  auto sst = NewFile(fs, dir.Sub("000002.sst"), &s);
  ASSERT_TRUE(log != nullptr && sst != nullptr);
  fs.FailAfterBytes(0, FaultInjectionFs::Fault::kIOError, ".sst");
  EXPECT_TRUE(Append(*log, "wal data").ok());
  s = Append(*sst, "table data");
  EXPECT_TRUE(s.IsIOError()) << s.ToString();
  EXPECT_FALSE(s.IsNoSpace());
  EXPECT_FALSE(s.GetRetryable());
  EXPECT_THAT(s.ToString(), HasSubstr("000002.sst"));
  EXPECT_TRUE(Append(*log, "more wal data").ok());
}

RecordToAppend Rec(int n) {
  return RecordToAppend{"q3", RecordKind::kFeedbackEvent, absl::StrCat("fb-", n),
                        std::string(200, static_cast<char>('a' + n % 26))};
}

std::vector<RecordToAppend> Recs(int from, int to) {
  std::vector<RecordToAppend> out;
  for (int i = from; i < to; ++i) out.push_back(Rec(i));
  return out;
}

// Waits until `store` reports it can write again; false at the deadline.
bool WaitWritable(const Store& store) {
  const absl::Time deadline = absl::Now() + kRecoveryDeadline;
  while (absl::Now() < deadline) {
    if (store.WriteHealth().ok()) return true;
    absl::SleepFor(absl::Milliseconds(20));
  }
  return false;
}

// Every record of "q3" with sequence numbers 1..n and the ids they were appended with.
void ExpectStoredExactly(const Store& store, const std::vector<std::string>& ids) {
  std::vector<StoredRecord> stored;
  ASSERT_TRUE(store
                  .ScanEvents("q3", 0,
                              [&](const StoredRecord& r) {
                                stored.push_back(r);
                                return true;
                              })
                  .ok());
  ASSERT_EQ(stored.size(), ids.size());
  for (size_t i = 0; i < ids.size(); ++i) {
    EXPECT_EQ(stored[i].sequence, i + 1);
    EXPECT_EQ(stored[i].id, ids[i]);
  }
  EXPECT_EQ(store.LastSequence("q3"), ids.size());
}

class StoreFaultTest : public ::testing::Test {
 protected:
  std::unique_ptr<Store> Open(rocksdb::Env* env) {
    StoreOptions options;
    options.env = env;
    auto store = Store::Open(dir_.Sub("db"), options);
    EXPECT_TRUE(store.ok()) << store.status();
    return store.ok() ? std::move(*store) : nullptr;
  }

  // Observes write health changes of `store` into changes_.
  void Observe(Store& store) {
    store.SetWriteHealthObserver([this](const absl::Status& s) {
      absl::MutexLock lock(&mu_);
      changes_.push_back(s);
    });
  }
  std::vector<absl::Status> Changes() {
    absl::MutexLock lock(&mu_);
    return changes_;
  }

  testing::TempDir dir_;
  FaultInjectionEnv faults_ = NewFaultInjectionEnv();
  absl::Mutex mu_;
  std::vector<absl::Status> changes_;
};

// A failed write-ahead-log append: RocksDB's own recovery retries it at once, on the full
// disk, and the error turns fatal, so Resume never succeeds; the store reopens RocksDB.
TEST_F(StoreFaultTest, FullDiskFailsAppendsUntilSpaceReturnsThenRecoversByItself) {
  auto store = Open(faults_.env.get());
  ASSERT_NE(store, nullptr);
  Observe(*store);
  std::vector<std::string> ids;
  ASSERT_TRUE(store->Append(Recs(0, 10)).ok());
  for (int i = 0; i < 10; ++i) ids.push_back(absl::StrCat("fb-", i));
  EXPECT_TRUE(store->WriteHealth().ok());
  EXPECT_TRUE(store->Stats().writable);

  // Room for a few more batches of 10 records (about 2.5 KB each in the log), then full.
  faults_.fs->FailAfterBytes(8000);
  int next = 10;
  absl::StatusOr<std::vector<AppendResult>> failed;
  while (true) {
    ASSERT_LT(next, 1000) << "the disk never filled";
    failed = store->Append(Recs(next, next + 10));
    if (!failed.ok()) break;
    for (int i = next; i < next + 10; ++i) ids.push_back(absl::StrCat("fb-", i));
    next += 10;
  }
  EXPECT_GE(next, 20);  // Some batches fitted.
  EXPECT_TRUE(absl::IsUnavailable(failed.status())) << failed.status();
  EXPECT_THAT(failed.status().message(), HasSubstr("No space left on device"));
  absl::Status health = store->WriteHealth();
  EXPECT_TRUE(absl::IsUnavailable(health)) << health;
  EXPECT_THAT(health.message(), HasSubstr("No space"));
  EXPECT_FALSE(store->Stats().writable);
  EXPECT_GE(store->Stats().failed_writes, 1u);
  // While the disk stays full the store stays unwritable: recovery attempts fail too.
  absl::SleepFor(absl::Milliseconds(600));
  EXPECT_FALSE(store->WriteHealth().ok());
  EXPECT_FALSE(store->Append(Recs(next, next + 10)).ok());
  // Reads still work.
  EXPECT_EQ(store->Lookup("q3", RecordKind::kFeedbackEvent, "fb-3")->sequence, 4u);

  faults_.fs->Heal();
  ASSERT_TRUE(WaitWritable(*store)) << store->WriteHealth();
  // The failed batch used up no sequence numbers. It was answered with an error, so it is
  // either not stored or, when the reopen found it complete in the write-ahead log, stored
  // whole with the numbers it was given: resent, its records are accepted or duplicates,
  // with the same numbers either way.
  auto again = store->Append(Recs(next - 5, next + 10));
  ASSERT_TRUE(again.ok()) << again.status();
  for (int i = 0; i < 5; ++i) EXPECT_EQ((*again)[i].outcome, AppendOutcome::kDuplicate);
  for (int i = 5; i < 15; ++i) {
    EXPECT_EQ((*again)[i].outcome, (*again)[5].outcome) << "the failed batch was split";
    EXPECT_EQ((*again)[i].sequence, static_cast<SequenceNumber>(next + i - 4));
  }
  for (int i = next; i < next + 10; ++i) ids.push_back(absl::StrCat("fb-", i));
  ExpectStoredExactly(*store, ids);
  // The observer saw writable, unwritable, writable, in order.
  std::vector<absl::Status> changes = Changes();
  ASSERT_EQ(changes.size(), 3u);
  EXPECT_TRUE(changes[0].ok());
  EXPECT_TRUE(absl::IsUnavailable(changes[1])) << changes[1];
  EXPECT_TRUE(changes[2].ok());

  // Reopened on the real file system: exactly what was acknowledged.
  store.reset();
  store = Open(nullptr);
  ASSERT_NE(store, nullptr);
  ExpectStoredExactly(*store, ids);
}

TEST_F(StoreFaultTest, FailedFlushStopsWritesUntilSpaceReturns) {
  auto store = Open(faults_.env.get());
  ASSERT_NE(store, nullptr);
  std::vector<std::string> ids;
  ASSERT_TRUE(store->Append(Recs(0, 50)).ok());
  for (int i = 0; i < 50; ++i) ids.push_back(absl::StrCat("fb-", i));

  // SST files cannot be written: a checkpoint's flush of the memtables fails, and RocksDB
  // then refuses writes (a background error) although the write-ahead log still could.
  faults_.fs->FailAfterBytes(0, FaultInjectionFs::Fault::kNoSpace, ".sst");
  auto checkpoint = store->Checkpoint(dir_.Sub("copy"));
  EXPECT_FALSE(checkpoint.ok());
  auto failed = store->Append(Recs(50, 60));
  ASSERT_FALSE(failed.ok());
  EXPECT_TRUE(absl::IsUnavailable(failed.status())) << failed.status();
  EXPECT_FALSE(store->WriteHealth().ok());
  EXPECT_GE(faults_.fs->failed_operations(), 1u);

  faults_.fs->Heal();
  ASSERT_TRUE(WaitWritable(*store)) << store->WriteHealth();
  ASSERT_TRUE(store->Append(Recs(50, 60)).ok());
  for (int i = 50; i < 60; ++i) ids.push_back(absl::StrCat("fb-", i));
  auto copy = store->Checkpoint(dir_.Sub("copy2"));
  ASSERT_TRUE(copy.ok()) << copy.status();
  ASSERT_EQ(copy->initiatives.size(), 1u);
  EXPECT_EQ(copy->initiatives[0].last_sequence, 60u);
  ExpectStoredExactly(*store, ids);

  store.reset();
  store = Open(nullptr);
  ASSERT_NE(store, nullptr);
  ExpectStoredExactly(*store, ids);
}

// The disk fills while writes run at the memtable budget: flushes fail, memtables cannot
// shrink, and appends must still come back with an error (not wait for memory that no
// flush will free, as a WriteBufferManager with allow_stall made them do, holding the
// store's locks: health stayed OK and recovery never started), then succeed again once
// space returns, with no restart.
TEST_F(StoreFaultTest, FullDiskAtTheMemtableBudgetFailsAppendsThenRecovers) {
  StoreOptions options;
  options.env = faults_.env.get();
  options.write_buffer_bytes = size_t{16} << 20;
  auto opened = Store::Open(dir_.Sub("db"), options);
  ASSERT_TRUE(opened.ok()) << opened.status();
  std::unique_ptr<Store> store = std::move(*opened);
  std::atomic<int> ok_batches{0}, failed_batches{0};
  std::atomic<bool> stop{false};
  std::thread writer([&] {
    std::mt19937_64 rng(7);
    std::string payload(4000, ' ');  // Incompressible, so memtables and files fill alike.
    for (int n = 0; !stop;) {
      std::vector<RecordToAppend> records;
      for (int i = 0; i < 100; ++i, ++n) {
        for (char& c : payload) c = static_cast<char>(rng());
        records.push_back({"q3", RecordKind::kFeedbackEvent, absl::StrCat("big-", n), payload});
      }
      if (store->Append(records).ok()) {
        ++ok_batches;
      } else {
        ++failed_batches;
        absl::SleepFor(absl::Milliseconds(20));
      }
    }
  });
  // Past the budget (about 40 MiB written), then table files get 2 MiB more and no more.
  const auto wait_for = [](const std::function<bool()>& done, absl::Duration timeout) {
    const absl::Time deadline = absl::Now() + timeout;
    while (!done()) {
      if (absl::Now() > deadline) return false;
      absl::SleepFor(absl::Milliseconds(10));
    }
    return true;
  };
  const bool warmed = wait_for([&] { return ok_batches >= 100; }, absl::Seconds(60));
  faults_.fs->FailAfterBytes(2 << 20, FaultInjectionFs::Fault::kNoSpace, ".sst");
  const bool failing =
      warmed &&
      wait_for([&] { return failed_batches > 0 && !store->WriteHealth().ok(); }, absl::Seconds(30));
  faults_.fs->Heal();
  const int ok_before_heal = ok_batches;
  const bool recovered =
      failing && wait_for([&] { return ok_batches > ok_before_heal + 5; }, absl::Seconds(60));
  stop = true;
  if (!recovered) {
    // A writer stuck inside Append would hang the join and the store's destructor.
    ADD_FAILURE() << "warmed " << warmed << ", failing " << failing << ", recovered " << recovered
                  << ": " << ok_batches << " batches stored, " << failed_batches
                  << " failed, health " << store->WriteHealth();
    std::fflush(nullptr);
    std::_Exit(1);
  }
  writer.join();
  EXPECT_TRUE(store->WriteHealth().ok()) << store->WriteHealth();
  EXPECT_GE(store->Stats().failed_writes, 1u);
}

TEST_F(StoreFaultTest, ThemeStateAndTaskWriteFailuresMakeTheStoreUnwritable) {
  auto store = Open(faults_.env.get());
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->Append(Recs(0, 3)).ok());
  faults_.fs->FailAfterBytes(0);
  absl::Status theme = store->WriteThemeState("q3", {{"g", "globals"}}, 3);
  EXPECT_TRUE(absl::IsUnavailable(theme)) << theme;
  EXPECT_FALSE(store->PutTasks("q3", {{"task", "record"}}).ok());
  EXPECT_FALSE(store->WriteHealth().ok());
  EXPECT_FALSE(store->Stats().writable);
  EXPECT_EQ(*store->AppliedSequence("q3"), 0u);
}

// Reads go on while the store loses the write-ahead log and reopens RocksDB: each one waits
// for the reopen or is answered Unavailable, and none misses an acknowledged record.
TEST_F(StoreFaultTest, ReadsDuringTheReopenSeeEveryAcknowledgedRecord) {
  auto store = Open(faults_.env.get());
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->Append(Recs(0, 100)).ok());
  std::atomic<bool> stop{false};
  std::atomic<int> reads{0};
  absl::Mutex errors_mu;
  std::vector<std::string> errors;
  std::thread reader([&] {
    auto error = [&](const std::string& e) {
      absl::MutexLock lock(&errors_mu);
      errors.push_back(e);
    };
    while (!stop.load()) {
      size_t seen = 0;
      absl::Status scan = store->ScanEvents("q3", 0, [&](const StoredRecord&) {
        ++seen;
        return true;
      });
      if (scan.ok() && seen < 100) error(absl::StrCat("scan saw ", seen, " records"));
      if (!scan.ok() && !absl::IsUnavailable(scan)) error(scan.ToString());
      auto found = store->Lookup("q3", RecordKind::kFeedbackEvent, "fb-99");
      if (found.ok() && found->sequence != 100) error("fb-99 has another sequence");
      if (!found.ok() && !absl::IsUnavailable(found.status())) error(found.status().ToString());
      (void)store->Stats();
      ++reads;
    }
  });
  faults_.fs->FailAfterBytes(0);
  EXPECT_FALSE(store->Append(Recs(100, 110)).ok());
  absl::SleepFor(absl::Milliseconds(300));
  faults_.fs->Heal();
  EXPECT_TRUE(WaitWritable(*store)) << store->WriteHealth();
  const int before = reads.load();
  const absl::Time deadline = absl::Now() + kRecoveryDeadline;
  while (reads.load() < before + 3 && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  stop = true;
  reader.join();
  EXPECT_GE(reads.load(), before + 3);
  absl::MutexLock lock(&errors_mu);
  EXPECT_THAT(errors, ::testing::IsEmpty());
  EXPECT_GE(store->LastSequence("q3"), 100u);
}

TEST_F(StoreFaultTest, ForgetRecordsWriteFailureMakesTheStoreUnwritable) {
  auto store = Open(faults_.env.get());
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->Append(Recs(0, 3)).ok());
  auto stored = store->Lookup("q3", RecordKind::kFeedbackEvent, "fb-1");
  ASSERT_TRUE(stored.ok()) << stored.status();
  faults_.fs->FailAfterBytes(0);
  auto forgotten = store->ForgetRecords("q3", {*stored}, {{"g", "globals"}}, 3);
  EXPECT_TRUE(absl::IsUnavailable(forgotten.status())) << forgotten.status();
  EXPECT_FALSE(store->WriteHealth().ok());
  EXPECT_EQ(store->Stats().failed_writes, 1u);
  EXPECT_EQ(store->LastSequence("q3"), 3u);

  faults_.fs->Heal();
  ASSERT_TRUE(WaitWritable(*store)) << store->WriteHealth();
  // Whether or not the failed batch was stored by a reopen, the cached last sequence agrees
  // with meta, so a retry either finds nothing changed or sees the forget happened.
  const SequenceNumber last = store->LastSequence("q3");
  if (last == 3) {
    forgotten = store->ForgetRecords("q3", {*stored}, {{"g", "globals"}}, 3);
    ASSERT_TRUE(forgotten.ok()) << forgotten.status();
    EXPECT_EQ(*forgotten, 4u);
  } else {
    EXPECT_EQ(last, 4u);
  }
  EXPECT_TRUE(absl::IsNotFound(store->Lookup("q3", RecordKind::kFeedbackEvent, "fb-1").status()));
  EXPECT_EQ(*store->AppliedSequence("q3"), 4u);
}

}  // namespace
}  // namespace fieldloop::storage
