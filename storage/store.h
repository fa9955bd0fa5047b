// Store: the RocksDB database of fieldloop. Knows keys, batches and column families; knows
// nothing about themes, boards or the meaning of a record's payload.
//
// Column families (docs/storage.md has the key layout):
//   events   the append-only log, "<initiative>\0<seq>" -> envelope(kind, id, payload)
//   ids      dedupe index, "<initiative>\0<kind><id>" -> seq
//   assets   latest content asset payload per id
//   metrics  latest onboarding metric payload per id
//   themes   theme state (written by the clusterer, later issues)
//   tasks    refresh-plan tasks (later issues)
//   meta     schema version, last sequence number and applied watermark per initiative
#ifndef FIELDLOOP_STORAGE_STORE_H_
#define FIELDLOOP_STORAGE_STORE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/types/span.h"
#include "rocksdb/cache.h"
#include "rocksdb/db.h"
#include "rocksdb/statistics.h"
#include "rocksdb/write_batch.h"
#include "storage/keys.h"

namespace fieldloop::storage {

// Storage schema version this build reads and writes (meta key kSchemaVersionKey). Open
// stamps it into a new store and into a store made before the version was recorded (those
// are version 1), and refuses a store with a newer one. Raised when the layout of docs/
// storage.md changes in a way an older build would misread.
inline constexpr int kSchemaVersion = 1;

struct StoreOptions {
  // Sync the write-ahead log before an append returns: an append then survives power loss,
  // not only a crash of the process. Costs an fsync per batch.
  // Default: false.
  bool sync_writes = false;
  // Create the directory (with its parents) and the database when missing.
  // Default: true.
  bool create_if_missing = true;
  // Keep RocksDB's statistics tickers (per-core counters, no timers or histograms) so that
  // Stats() can report the time writes stalled. Costs a counter increment per RocksDB
  // operation; fieldloopd turns it on with --metrics_listen.
  // Default: false (StoreStats::write_stall_micros stays 0).
  bool collect_statistics = false;
  // The rocksdb::Env the store reads and writes files and runs its background work through;
  // not owned, must outlive the store. For tests (a fault-injecting file system:
  // storage/fault_injection_fs.h) and embedding.
  // Default: nullptr (rocksdb::Env::Default()).
  rocksdb::Env* env = nullptr;
  // The one block cache every column family shares: data blocks, and the index and filter
  // blocks of the table files (partitioned, their top levels pinned), so that what RocksDB
  // keeps of its files stays within this many bytes however large the store grows.
  // Default: 64 MiB (fieldloopd --block_cache_mb).
  size_t block_cache_bytes = size_t{64} << 20;
  // The memtable budget. Each column family's memtable size is a share of it (events a
  // quarter; docs/storage.md, "Memory"), and a rocksdb::WriteBufferManager over all of them
  // flushes the family with the oldest memtable when they pass it: all memtables together
  // stay under 1.32 times this.
  // Default: 128 MiB (fieldloopd --write_buffer_mb).
  size_t write_buffer_bytes = size_t{128} << 20;
};

// Figures about the RocksDB database itself, for monitoring (see Store::Stats).
struct StoreStats {
  // Bytes of all SST files of every column family ("rocksdb.total-sst-files-size", summed):
  // the data on disk, not counting the write-ahead log.
  uint64_t sst_files_bytes = 0;
  // RocksDB's estimate of the bytes of live data ("rocksdb.estimate-live-data-size",
  // summed): what the SST files would shrink to with obsolete versions compacted away.
  uint64_t live_data_bytes = 0;
  // Microseconds writers waited because RocksDB delayed or stopped writes (a write stall:
  // too many memtables or L0 files, or too much pending compaction) since Open: the
  // STALL_MICROS ticker. 0 unless StoreOptions::collect_statistics.
  uint64_t write_stall_micros = 0;
  // True while RocksDB stops writes altogether ("rocksdb.is-write-stopped").
  bool writes_stopped = false;
  // False while the store cannot write (see Store::WriteHealth).
  bool writable = true;
  // Writes (WriteBatches of any kind) that failed since Open.
  uint64_t failed_writes = 0;
  // Memory RocksDB holds, in bytes: the memtables of every column family, active and
  // immutable ("rocksdb.cur-size-all-mem-tables", summed); the table readers' index and
  // filter blocks kept outside the block cache ("rocksdb.estimate-table-readers-mem",
  // summed: only the readers' own few KiB, as those blocks go into the cache); and the
  // usage of the block cache every column family shares (StoreOptions::block_cache_bytes).
  uint64_t memtable_bytes = 0;
  uint64_t table_readers_bytes = 0;
  uint64_t block_cache_bytes = 0;
};

// What a checkpoint holds per initiative (see Store::Checkpoint).
struct CheckpointInitiative {
  std::string initiative;
  // The last sequence number given in the initiative: the checkpoint holds its records 1..it.
  SequenceNumber last_sequence = 0;
  // The applied watermark of its theme state in the checkpoint (records after it are applied
  // when a server starts on the copy).
  SequenceNumber applied_sequence = 0;
};

// A checkpoint written by Store::Checkpoint, as read back from the copy itself.
struct CheckpointInfo {
  // Absolute path of the checkpoint directory.
  std::string dir;
  // Bytes of the files in it. SST files hard-linked with the live store count in full here
  // but share their disk blocks with it until the store compacts them away.
  uint64_t bytes = 0;
  // Schema version stored in the copy.
  int schema_version = 0;
  // Initiatives with at least one record, sorted by name.
  std::vector<CheckpointInitiative> initiatives;
};

// One record to append.
struct RecordToAppend {
  std::string initiative;  // Must be non-empty and contain no 0x00 byte.
  RecordKind kind = RecordKind::kFeedbackEvent;
  std::string id;       // Identity within (initiative, kind).
  std::string payload;  // Opaque bytes (a serialized proto message).
};

enum class AppendOutcome {
  kAccepted,   // Stored with a new sequence number.
  kDuplicate,  // Identity stored before (and, for state kinds, with the same payload).
};

struct AppendResult {
  AppendOutcome outcome = AppendOutcome::kAccepted;
  // The new sequence number (accepted) or the one the stored record got (duplicate).
  SequenceNumber sequence = 0;
};

// One record read back from the events log.
struct StoredRecord {
  std::string initiative;
  SequenceNumber sequence = 0;
  RecordKind kind = RecordKind::kFeedbackEvent;
  std::string id;
  std::string payload;
};

// Returns true for kinds that describe current state (content assets, onboarding metrics):
// appending one with an existing identity but a different payload replaces it and is
// accepted with a new sequence number. Other kinds are immutable events: the first payload
// stored under an identity wins and later ones are duplicates.
bool IsStateKind(RecordKind kind);

class Store {
 public:
  // Opens (or creates, per `options`) the store in directory `dir`. A store without a
  // schema version (new, or made before versions were recorded) gets kSchemaVersion written,
  // synced. Returns FailedPrecondition if the store has a schema version newer than
  // kSchemaVersion ("data dir DIR has storage schema N; this fieldloopd reads up to 1:
  // upgrade fieldloopd"; nothing is written then), DataLoss if the schema version is not a
  // number >= 1 or RocksDB reports corruption, NotFound (creating nothing) when
  // `options.create_if_missing` is false and `dir` holds no store, and the other RocksDB
  // errors as Unavailable (I/O, busy: e.g. another process holds the lock), NotFound or
  // Internal.
  static absl::StatusOr<std::unique_ptr<Store>> Open(const std::string& dir,
                                                     const StoreOptions& options);

  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;
  // Closes the database; pending writes are already durable per StoreOptions::sync_writes.
  ~Store();

  // Appends `records` in one atomic WriteBatch: either all accepted ones are stored or
  // none is. Returns one result per record, in order; sequence numbers are given per
  // initiative in input order, without gaps. A record whose identity appears earlier in the
  // same batch is a duplicate of that one. Returns InvalidArgument (and writes nothing) if
  // a record has an empty or 0x00-containing initiative or an empty id, and the RocksDB
  // error if the write fails (nothing written; the sequence numbers are not used up).
  // Thread-safe; concurrent calls are serialized.
  absl::StatusOr<std::vector<AppendResult>> Append(absl::Span<const RecordToAppend> records)
      ABSL_LOCKS_EXCLUDED(db_mu_, mu_);

  // Returns the last sequence number given in `initiative`, 0 if none. Does not touch the
  // database: may be called from a scan's visitor.
  SequenceNumber LastSequence(absl::string_view initiative) const ABSL_LOCKS_EXCLUDED(mu_);

  // Calls `visit` for each record of `initiative` with sequence > `after`, in sequence
  // order, until `visit` returns false. Returns Internal on a read or decode error.
  // The scan reads in chunks (256 records or 1 MiB) and calls `visit` without holding any
  // lock of the store, so `visit` may call the store and take locks that are held elsewhere
  // while calling it. It is not a point-in-time read: records appended during the scan may
  // or may not be visited. The same holds for ScanThemeState and ScanTasks (whose callers
  // keep out the writers of what they read when they need a consistent view).
  absl::Status ScanEvents(absl::string_view initiative, SequenceNumber after,
                          const std::function<bool(const StoredRecord&)>& visit) const
      ABSL_LOCKS_EXCLUDED(db_mu_);

  // Returns the record stored under (initiative, kind, id), NotFound if none. For state
  // kinds it is the latest payload.
  absl::StatusOr<StoredRecord> Lookup(absl::string_view initiative, RecordKind kind,
                                      absl::string_view id) const ABSL_LOCKS_EXCLUDED(db_mu_);

  // Calls `visit` with the stored record of each identity of `kind` in `initiative` (for a
  // state kind, its latest version), in sequence order, until `visit` returns false. Reads
  // the identities from the ids column family, then their records from the events log by
  // key: the cost grows with the records of `kind`, not with the whole log; the sequence
  // numbers of all of them (8 bytes each) are held meanwhile. Not a point-in-time read, as
  // ScanEvents: a record forgotten during the scan (ForgetRecords) is skipped. Returns
  // DataLoss for a malformed ids entry or record, or an ids entry naming a record of another
  // kind, and the RocksDB error on a read error.
  absl::Status ScanKind(absl::string_view initiative, RecordKind kind,
                        const std::function<bool(const StoredRecord&)>& visit) const
      ABSL_LOCKS_EXCLUDED(db_mu_);

  // Calls `visit(id, payload)` with the latest payload of each identity of state kind `kind`
  // (IsStateKind: content assets, onboarding metrics) in `initiative`, in byte order of the
  // id, until `visit` returns false. Reads the assets or metrics column family, which Append
  // keeps current, not the events log. Not a point-in-time read, as ScanEvents. Returns
  // InvalidArgument for a kind that is not a state kind, and the RocksDB error on a read
  // error.
  absl::Status ScanLatestState(
      absl::string_view initiative, RecordKind kind,
      const std::function<bool(absl::string_view, absl::string_view)>& visit) const
      ABSL_LOCKS_EXCLUDED(db_mu_);

  // Returns the initiatives that have at least one record, sorted.
  std::vector<std::string> Initiatives() const ABSL_LOCKS_EXCLUDED(mu_);

  // Writes a consistent, point-in-time copy of the whole store (every column family) into
  // the new directory `dir` (a RocksDB checkpoint: memtables are flushed, SST files are
  // hard-linked when `dir` is on the same file system and copied otherwise, the rest is
  // copied), then opens the copy read-only to describe it. The copy is a store directory
  // that Open (fieldloopd --data_dir) opens; it holds every append that returned before the
  // call and none that started after it returned. A relative `dir` is taken from the working
  // directory; missing parent directories are created. Returns InvalidArgument if `dir` is
  // the store's own directory or inside it, AlreadyExists if `dir` or "<dir>.tmp" (where
  // RocksDB stages the copy, deleting what is there) exists (nothing is written then), and
  // the RocksDB error otherwise. Thread-safe; appends continue meanwhile.
  absl::StatusOr<CheckpointInfo> Checkpoint(const std::string& dir) const
      ABSL_LOCKS_EXCLUDED(db_mu_);

  // Absolute path of the store's directory (symbolic links resolved).
  const std::string& dir() const { return dir_; }

  // Theme state of `initiative`, written by the theme applier: opaque values under
  // caller-chosen key suffixes in the themes CF, plus the applied watermark (the last
  // sequence number reflected in them) in meta. Written in one atomic WriteBatch, synced
  // per StoreOptions::sync_writes. Returns the RocksDB error if the write fails.
  absl::Status WriteThemeState(absl::string_view initiative,
                               const std::vector<std::pair<std::string, std::string>>& puts,
                               SequenceNumber applied) ABSL_LOCKS_EXCLUDED(db_mu_);

  // Calls `visit(suffix, value)` for each theme-state entry of `initiative`, in key order.
  absl::Status ScanThemeState(
      absl::string_view initiative,
      const std::function<void(absl::string_view, absl::string_view)>& visit) const
      ABSL_LOCKS_EXCLUDED(db_mu_);

  // The applied watermark of `initiative`, 0 when none was written.
  absl::StatusOr<SequenceNumber> AppliedSequence(absl::string_view initiative) const
      ABSL_LOCKS_EXCLUDED(db_mu_);

  // Removes records of `initiative` and replaces its whole theme state, in one atomic
  // WriteBatch (Admin.Forget; docs/storage.md, "Forgetting records"). The batch deletes the
  // events entry of every record in `records`, the ids entry of its identity and, for a
  // state kind, its assets / metrics entry (the caller passes every stored version of such
  // an identity; a version left out stays in the log), deletes every theme-state entry of
  // the initiative, writes `theme_puts` as WriteThemeState does, and uses up the next
  // sequence number of the initiative, held by no record, which becomes both its last
  // sequence and its applied watermark. Returns that number. A forgotten identity appended
  // again later is accepted as new. Returns Aborted (nothing written) when the initiative's
  // last sequence is not `expected_last` (records were appended since the caller read
  // them), InvalidArgument for a bad initiative or a record without an id, and the RocksDB
  // error if the write fails (nothing written). Thread-safe; serialized with Append. The
  // caller keeps other writers of the initiative's theme state out meanwhile.
  absl::StatusOr<SequenceNumber> ForgetRecords(
      absl::string_view initiative, absl::Span<const StoredRecord> records,
      const std::vector<std::pair<std::string, std::string>>& theme_puts,
      SequenceNumber expected_last) ABSL_LOCKS_EXCLUDED(db_mu_, mu_);

  // Writes refresh-plan task records of `initiative` (tasks column family), key -> opaque
  // value, in one atomic WriteBatch. Keys must be non-empty. Returns the RocksDB error.
  absl::Status PutTasks(absl::string_view initiative,
                        const std::vector<std::pair<std::string, std::string>>& puts)
      ABSL_LOCKS_EXCLUDED(db_mu_);

  // Calls `visit(key, value)` for every task record of `initiative`, in key order.
  absl::Status ScanTasks(absl::string_view initiative,
                         const std::function<void(absl::string_view, absl::string_view)>& visit)
      const ABSL_LOCKS_EXCLUDED(db_mu_);

  // Schema version stored in meta.
  int schema_version() const { return schema_version_; }

  // Current figures of the database (see StoreStats); a property RocksDB cannot give reads
  // as 0. Thread-safe; cheap enough to call on every metrics scrape (in-memory properties).
  StoreStats Stats() const ABSL_LOCKS_EXCLUDED(db_mu_, health_mu_);

  // Whether the store can write now: OK, or the error of the write that failed (Unavailable
  // for I/O errors, a full disk among them: "writing batch: IO error: No space left on
  // device: ..."). Any write that fails
  // (Append, WriteThemeState, PutTasks) makes the store unwritable; RocksDB then refuses
  // writes until its background error is cleared. While unwritable, a thread of the store
  // tries to recover, first after 200 ms, then backing off to every 1 s: it writes, syncs
  // and deletes a 1 MiB file in the store's directory (through StoreOptions::env); once
  // that works, it calls rocksdb::DB::Resume() and rewrites the schema version (synced) as
  // a probe. When RocksDB refuses Resume because it deems the error fatal or unrecoverable
  // (a failed write-ahead-log append escalates to that), the thread closes and reopens the
  // database in place instead: the reopen replays the write-ahead log (acked records are in
  // it) and flushes it into table files, and the cached sequence numbers are reloaded. A
  // batch whose append failed may be complete in the log and so be stored by the reopen;
  // resending it then gives duplicates. Calls wait while the reopen runs; if reopening
  // fails, they return Unavailable until a later attempt succeeds. When the probe succeeds,
  // or any write does, the store is writable again. Thread-safe.
  absl::Status WriteHealth() const ABSL_LOCKS_EXCLUDED(health_mu_);

  // Called with WriteHealth() on every change between writable and unwritable, in order,
  // and once with the current state when set. Runs on the writing thread or the store's
  // recovery thread with the store's health lock held: it must be quick and must not call
  // the store's health methods (WriteHealth, Stats, SetWriteHealthObserver).
  using WriteHealthObserver = std::function<void(const absl::Status&)>;
  // Replaces the observer (nullptr: none). Once it returns, the previous observer is not
  // running and is not called again. Thread-safe.
  void SetWriteHealthObserver(WriteHealthObserver observer) ABSL_LOCKS_EXCLUDED(health_mu_);

 private:
  Store(const StoreOptions& options, const rocksdb::Options& db_options,
        std::unique_ptr<rocksdb::DB> db, std::vector<rocksdb::ColumnFamilyHandle*> handles);
  // Replaces last_seq_ with the last sequence numbers stored in meta.
  absl::Status LoadSequences() ABSL_SHARED_LOCKS_REQUIRED(db_mu_) ABSL_LOCKS_EXCLUDED(mu_);
  // Reads the stored schema version into `*version`; NotFound when none is stored, DataLoss
  // when it does not parse.
  absl::Status ReadSchemaVersion(int* version) const ABSL_SHARED_LOCKS_REQUIRED(db_mu_);
  // Unavailable while the database is closed (a reopen failed), OK otherwise.
  absl::Status CheckOpen() const ABSL_SHARED_LOCKS_REQUIRED(db_mu_);
  // Destroys the column family handles and closes the database; db_ is nullptr after.
  void CloseDb() ABSL_EXCLUSIVE_LOCKS_REQUIRED(db_mu_);
  // Closes and reopens the database in dir_ with the same options (flushing the replayed
  // write-ahead log into table files) and reloads what the store caches. The database
  // stays closed when opening fails.
  absl::Status Reopen() ABSL_LOCKS_EXCLUDED(db_mu_, mu_);

  rocksdb::ColumnFamilyHandle* cf(int index) const ABSL_SHARED_LOCKS_REQUIRED(db_mu_) {
    return handles_[index];
  }
  // Writes `batch` (synced per options_), tracking write health; `what` names the write in
  // an error.
  absl::Status Write(rocksdb::WriteBatch* batch, absl::string_view what)
      ABSL_SHARED_LOCKS_REQUIRED(db_mu_) ABSL_LOCKS_EXCLUDED(health_mu_);
  // Records the outcome of a write: writable when `status` is OK, unwritable with it
  // otherwise; tells the observer about a change.
  void SetWriteHealth(const absl::Status& status) ABSL_LOCKS_EXCLUDED(health_mu_);
  // The recovery thread: Resume and probe while unwritable.
  void RecoveryLoop() ABSL_LOCKS_EXCLUDED(health_mu_);
  // Writes, syncs and deletes a 1 MiB file in the store's directory: OK when the disk takes
  // writes.
  absl::Status ProbeSpace() const;
  // ProbeSpace, DB::Resume() (or Reopen when RocksDB refuses it as fatal, or the database
  // is closed), then the probe write; OK when the store writes again.
  absl::Status TryResume() ABSL_LOCKS_EXCLUDED(db_mu_, mu_, health_mu_);
  // The probe write: rewrites the schema version, synced.
  absl::Status ProbeWrite() ABSL_LOCKS_EXCLUDED(db_mu_);
  // Calls `visit(key without the initiative prefix, value)` for the keys of `initiative`
  // in column family `column_family`; `what` names the read in an error.
  absl::Status ScanInitiative(
      int column_family, absl::string_view initiative, const char* what,
      const std::function<void(absl::string_view, absl::string_view)>& visit) const
      ABSL_LOCKS_EXCLUDED(db_mu_);
  // Calls `visit(key without `prefix`, value)` for the keys of column family
  // `column_family` from `start` on that start with `prefix`, in key order, until `visit`
  // returns false. Reads chunks of entries under the database lock and calls `visit` for
  // each chunk after releasing it; the next chunk starts after the last key visited, in
  // the database as it is then (possibly reopened).
  absl::Status ScanRange(
      int column_family, const std::string& prefix, const std::string& start, const char* what,
      const std::function<bool(absl::string_view, absl::string_view)>& visit) const
      ABSL_LOCKS_EXCLUDED(db_mu_);

  const StoreOptions options_;
  const rocksdb::Options db_options_;  // What Open opened the database with; Reopen too.
  std::string dir_;
  int schema_version_ = kSchemaVersion;
  std::shared_ptr<rocksdb::Statistics> statistics_;  // nullptr unless collect_statistics.
  std::shared_ptr<rocksdb::Cache> block_cache_;      // Shared by every column family.

  // The database lock. Held shared by every call that uses db_ or handles_ (a scan while it
  // reads a chunk, not while its visitor runs) and exclusively by Reopen and the destructor, so
  // nothing uses the database while it is closed and reopened. Lock order: db_mu_, then mu_, then
  // health_mu_.
  mutable absl::Mutex db_mu_ ABSL_ACQUIRED_BEFORE(mu_, health_mu_);
  // nullptr only after a failed Reopen (until one succeeds).
  std::unique_ptr<rocksdb::DB> db_ ABSL_GUARDED_BY(db_mu_);
  // Owned; destroyed before db_.
  std::vector<rocksdb::ColumnFamilyHandle*> handles_ ABSL_GUARDED_BY(db_mu_);

  mutable absl::Mutex mu_ ABSL_ACQUIRED_BEFORE(health_mu_);
  // Last sequence per initiative; one entry per initiative, so it stays small.
  absl::flat_hash_map<std::string, SequenceNumber> last_seq_ ABSL_GUARDED_BY(mu_);

  // Write health (see WriteHealth); also serializes observer calls.
  mutable absl::Mutex health_mu_;
  absl::Status write_error_ ABSL_GUARDED_BY(health_mu_);  // OK while writable.
  uint64_t failed_writes_ ABSL_GUARDED_BY(health_mu_) = 0;
  WriteHealthObserver observer_ ABSL_GUARDED_BY(health_mu_);
  bool stopping_ ABSL_GUARDED_BY(health_mu_) = false;
  std::thread recovery_;  // Runs RecoveryLoop; joined by the destructor.
};

}  // namespace fieldloop::storage

#endif  // FIELDLOOP_STORAGE_STORE_H_
