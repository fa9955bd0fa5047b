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
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/types/span.h"
#include "rocksdb/db.h"
#include "rocksdb/statistics.h"
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
      ABSL_LOCKS_EXCLUDED(mu_);

  // Returns the last sequence number given in `initiative`, 0 if none.
  SequenceNumber LastSequence(absl::string_view initiative) const ABSL_LOCKS_EXCLUDED(mu_);

  // Calls `visit` for each record of `initiative` with sequence > `after`, in sequence
  // order, until `visit` returns false. Returns Internal on a read or decode error.
  absl::Status ScanEvents(absl::string_view initiative, SequenceNumber after,
                          const std::function<bool(const StoredRecord&)>& visit) const;

  // Returns the record stored under (initiative, kind, id), NotFound if none. For state
  // kinds it is the latest payload.
  absl::StatusOr<StoredRecord> Lookup(absl::string_view initiative, RecordKind kind,
                                      absl::string_view id) const;

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
  absl::StatusOr<CheckpointInfo> Checkpoint(const std::string& dir) const;

  // Absolute path of the store's directory (symbolic links resolved).
  const std::string& dir() const { return dir_; }

  // Theme state of `initiative`, written by the theme applier: opaque values under
  // caller-chosen key suffixes in the themes CF, plus the applied watermark (the last
  // sequence number reflected in them) in meta. Written in one atomic WriteBatch, synced
  // per StoreOptions::sync_writes. Returns the RocksDB error if the write fails.
  absl::Status WriteThemeState(absl::string_view initiative,
                               const std::vector<std::pair<std::string, std::string>>& puts,
                               SequenceNumber applied);

  // Calls `visit(suffix, value)` for each theme-state entry of `initiative`, in key order.
  absl::Status ScanThemeState(
      absl::string_view initiative,
      const std::function<void(absl::string_view, absl::string_view)>& visit) const;

  // The applied watermark of `initiative`, 0 when none was written.
  absl::StatusOr<SequenceNumber> AppliedSequence(absl::string_view initiative) const;

  // Writes refresh-plan task records of `initiative` (tasks column family), key -> opaque
  // value, in one atomic WriteBatch. Keys must be non-empty. Returns the RocksDB error.
  absl::Status PutTasks(absl::string_view initiative,
                        const std::vector<std::pair<std::string, std::string>>& puts);

  // Calls `visit(key, value)` for every task record of `initiative`, in key order.
  absl::Status ScanTasks(
      absl::string_view initiative,
      const std::function<void(absl::string_view, absl::string_view)>& visit) const;

  // Schema version stored in meta.
  int schema_version() const { return schema_version_; }

  // Current figures of the database (see StoreStats); a property RocksDB cannot give reads
  // as 0. Thread-safe; cheap enough to call on every metrics scrape (in-memory properties).
  StoreStats Stats() const;

 private:
  Store(const StoreOptions& options, std::unique_ptr<rocksdb::DB> db,
        std::vector<rocksdb::ColumnFamilyHandle*> handles);
  absl::Status LoadSequences();

  rocksdb::ColumnFamilyHandle* cf(int index) const { return handles_[index]; }
  // Calls `visit(key without the initiative prefix, value)` for the keys of `initiative`
  // in column family `column_family`; `what` names the read in an error.
  absl::Status ScanInitiative(
      int column_family, absl::string_view initiative, const char* what,
      const std::function<void(absl::string_view, absl::string_view)>& visit) const;

  const StoreOptions options_;
  std::string dir_;
  int schema_version_ = kSchemaVersion;
  std::shared_ptr<rocksdb::Statistics> statistics_;  // nullptr unless collect_statistics.
  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;  // Owned; destroyed before db_.

  mutable absl::Mutex mu_;
  // Last sequence per initiative; one entry per initiative, so it stays small.
  absl::flat_hash_map<std::string, SequenceNumber> last_seq_ ABSL_GUARDED_BY(mu_);
};

}  // namespace fieldloop::storage

#endif  // FIELDLOOP_STORAGE_STORE_H_
