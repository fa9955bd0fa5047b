#include "storage/store.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "rocksdb/cache.h"
#include "rocksdb/file_system.h"
#include "rocksdb/filter_policy.h"
#include "rocksdb/table.h"
#include "rocksdb/utilities/checkpoint.h"
#include "rocksdb/write_batch.h"
#include "rocksdb/write_buffer_manager.h"
#include "storage/path_rules.h"

namespace fieldloop::storage {
namespace {

// Column family order; index into Store::handles_.
enum Cf { kDefault = 0, kEvents, kIds, kAssets, kMetrics, kThemes, kTasks, kMeta, kNumCfs };
constexpr const char* kCfNames[kNumCfs] = {"default", "events", "ids",   "assets",
                                           "metrics", "themes", "tasks", "meta"};

// Initiatives prefix keys: non-empty, and without the 0x00 that ends the prefix.
bool IsKeyableInitiative(absl::string_view initiative) {
  return !initiative.empty() && initiative.find('\0') == absl::string_view::npos;
}

absl::Status FromRocks(const rocksdb::Status& s, absl::string_view what) {
  if (s.ok()) return absl::OkStatus();
  std::string msg = absl::StrCat(what, ": ", s.ToString());
  if (s.IsNotFound()) return absl::NotFoundError(msg);
  if (s.IsIOError() || s.IsBusy() || s.IsTryAgain()) return absl::UnavailableError(msg);
  if (s.IsCorruption()) return absl::DataLossError(msg);
  return absl::InternalError(msg);
}

// Event value: kind (1 byte), id length (4 bytes big-endian), id, payload.
std::string EncodeEnvelope(const RecordToAppend& r) {
  std::string out;
  out.reserve(5 + r.id.size() + r.payload.size());
  out.push_back(static_cast<char>(r.kind));
  const uint32_t n = static_cast<uint32_t>(r.id.size());
  for (int shift = 24; shift >= 0; shift -= 8)
    out.push_back(static_cast<char>((n >> shift) & 0xff));
  out.append(r.id);
  out.append(r.payload);
  return out;
}

bool DecodeEnvelope(absl::string_view in, StoredRecord* out) {
  if (in.size() < 5 || !IsValidRecordKind(static_cast<uint8_t>(in[0]))) return false;
  out->kind = static_cast<RecordKind>(in[0]);
  uint32_t n = 0;
  for (int i = 1; i < 5; ++i) n = (n << 8) | static_cast<uint8_t>(in[i]);
  if (in.size() < 5 + static_cast<size_t>(n)) return false;
  out->id = std::string(in.substr(5, n));
  out->payload = std::string(in.substr(5 + n));
  return true;
}

std::string Seq(SequenceNumber seq) {
  std::string out;
  PutBigEndian64(&out, seq);
  return out;
}

// The memtable size of each column family, a share of the memtable budget: events take
// nearly every byte written; ids, themes and meta see a write per record or per applied
// batch; the rest see few. The shares add up to 21/32 of the budget, and a family holds two
// memtables at most (one being flushed), so all memtables together stay under 1.32 times
// the budget whatever it is (128 MiB: events 32 MiB, ids and themes 16, the rest 4).
size_t WriteBufferSize(int cf, size_t budget) {
  switch (cf) {
    case kEvents:
      return budget / 4;
    case kIds:
    case kThemes:
      return budget / 8;
    default:
      return budget / 32;
  }
}

// The descriptors of every column family, in Cf order, all reading through `cache`.
//
// Index and filter blocks go into the cache too (partitioned, with their small top levels
// pinned, and in the cache's high-priority pool so that scanning data blocks does not evict
// them): kept outside it, they grew with the data, about 3 MiB per million records in
// load_bench (docs/benchmarks.md).
// ids and meta are read by key (is this id stored? where is the applied sequence?): they
// get a Bloom filter and hashed data blocks, what OptimizeForPointLookup gives, without its
// private 64 MiB cache per column family.
std::vector<rocksdb::ColumnFamilyDescriptor> ColumnFamilies(
    const std::shared_ptr<rocksdb::Cache>& cache, size_t write_buffer_bytes) {
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (int i = 0; i < kNumCfs; ++i) {
    const bool point_lookup = i == kIds || i == kMeta;
    rocksdb::BlockBasedTableOptions table;
    table.block_cache = cache;
    table.cache_index_and_filter_blocks = true;
    table.cache_index_and_filter_blocks_with_high_priority = true;
    table.pin_top_level_index_and_filter = true;
    table.index_type = rocksdb::BlockBasedTableOptions::kTwoLevelIndexSearch;
    if (point_lookup) {
      table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
      table.partition_filters = true;
      table.data_block_index_type = rocksdb::BlockBasedTableOptions::kDataBlockBinaryAndHash;
    }
    rocksdb::ColumnFamilyOptions cf_options;
    cf_options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
    cf_options.write_buffer_size = WriteBufferSize(i, write_buffer_bytes);
    if (point_lookup) {
      cf_options.memtable_whole_key_filtering = true;
      cf_options.memtable_prefix_bloom_size_ratio = 0.02;
    }
    descriptors.emplace_back(kCfNames[i], cf_options);
  }
  return descriptors;
}

// The block cache of a store: index and filter blocks in its high-priority half.
std::shared_ptr<rocksdb::Cache> NewBlockCache(size_t bytes) {
  rocksdb::LRUCacheOptions cache;
  cache.capacity = bytes;
  cache.high_pri_pool_ratio = 0.5;
  return rocksdb::NewLRUCache(cache);
}

// The file ProbeSpace writes in the store's directory.
constexpr char kSpaceProbeFile[] = "fieldloop-space-probe.tmp";
constexpr size_t kSpaceProbeBytes = 1 << 20;

// Parses a stored schema version: a decimal number >= 1.
bool ParseSchemaVersion(const std::string& text, int* version) {
  return absl::SimpleAtoi(text, version) && *version >= 1;
}

// Reads the schema version and the per-initiative sequences of the checkpoint in `dir`,
// opened read-only (replaying its write-ahead log in memory; nothing is written).
absl::Status DescribeCheckpoint(const std::string& dir, CheckpointInfo* info) {
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s = rocksdb::DB::OpenForReadOnly(
      rocksdb::Options(), dir, ColumnFamilies(NewBlockCache(size_t{8} << 20), size_t{16} << 20),
      &handles, &raw);
  if (!s.ok()) return FromRocks(s, absl::StrCat("opening checkpoint ", dir));
  std::unique_ptr<rocksdb::DB> db(raw);
  rocksdb::ColumnFamilyHandle* meta = handles[kMeta];
  absl::Status result;
  std::string version;
  s = db->Get(rocksdb::ReadOptions(), meta,
              rocksdb::Slice(kSchemaVersionKey.data(), kSchemaVersionKey.size()), &version);
  if (!s.ok()) {
    result = FromRocks(s, absl::StrCat("reading the schema version of checkpoint ", dir));
  } else if (!ParseSchemaVersion(version, &info->schema_version)) {
    result = absl::DataLossError(
        absl::StrCat("checkpoint ", dir, ": bad schema version '", version, "'"));
  }
  std::map<std::string, CheckpointInitiative> by_name;
  const std::string applied_prefix = AppliedKey("");
  const std::string seq_prefix = LastSequenceKey("");
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions(), meta));
  for (it->SeekToFirst(); result.ok() && it->Valid(); it->Next()) {
    const std::string key = it->key().ToString();
    const bool applied = absl::StartsWith(key, applied_prefix);
    if (!applied && !absl::StartsWith(key, seq_prefix)) continue;
    if (it->value().size() != 8) {
      result = absl::DataLossError(absl::StrCat("checkpoint ", dir, ": bad meta value"));
      break;
    }
    const std::string name = key.substr(applied ? applied_prefix.size() : seq_prefix.size());
    CheckpointInitiative& entry = by_name[name];
    entry.initiative = name;
    const SequenceNumber seq = GetBigEndian64(absl::string_view(it->value().data(), 8));
    (applied ? entry.applied_sequence : entry.last_sequence) = seq;
  }
  if (result.ok()) result = FromRocks(it->status(), absl::StrCat("reading checkpoint ", dir));
  it.reset();
  for (const auto& [name, entry] : by_name) {
    if (entry.last_sequence > 0) info->initiatives.push_back(entry);
  }
  for (rocksdb::ColumnFamilyHandle* h : handles) db->DestroyColumnFamilyHandle(h);
  db->Close();
  return result;
}

}  // namespace

bool IsStateKind(RecordKind kind) {
  return kind == RecordKind::kContentAsset || kind == RecordKind::kOnboardingMetric;
}

namespace {

// The column family holding the latest payload of each identity of state kind `kind`.
int StateCf(RecordKind kind) { return kind == RecordKind::kContentAsset ? kAssets : kMetrics; }

}  // namespace

absl::StatusOr<std::unique_ptr<Store>> Store::Open(const std::string& dir,
                                                   const StoreOptions& options) {
  rocksdb::Options db_options;
  db_options.create_if_missing = options.create_if_missing;
  db_options.create_missing_column_families = true;
  db_options.IncreaseParallelism(2);
  // Records are small; the WAL is the durability point (see StoreOptions::sync_writes).
  // Its total size also bounds what a start replays: with avoid_flush_during_recovery
  // below, the logs of restarts pile up until writes pass this and flush them (a crash
  // loop kept 236 logs, 69 MB, after 200 restarts with 256 MiB here).
  db_options.max_total_wal_size = 64 << 20;
  // RocksDB's own LOG is renamed to LOG.old.<time> at each open; keep a few, not 1000.
  db_options.keep_log_file_num = 16;
  // Replay the write-ahead log into the memtables at open instead of flushing it into new
  // level-0 files: otherwise every start after a crash adds a small L0 file per column
  // family, and a crash loop faster than compaction stops writes at 36 of them
  // (docs/storage.md, "Crash loop").
  db_options.avoid_flush_during_recovery = true;
  if (options.env != nullptr) db_options.env = options.env;
  if (options.collect_statistics) {
    // Tickers only: timers and histograms would read the clock on every operation.
    db_options.statistics = rocksdb::CreateDBStatistics();
    db_options.statistics->set_stats_level(rocksdb::StatsLevel::kExceptHistogramOrTimers);
  }

  // One memory budget for the whole database; Reopen reuses both through db_options_ and
  // block_cache_.
  std::shared_ptr<rocksdb::Cache> block_cache = NewBlockCache(options.block_cache_bytes);
  // No allow_stall: a writer stalled by the manager waits until memtable memory is freed,
  // and when the flush that would free it fails (a full disk) it waits for ever, holding the
  // database lock, so the store never sees the error nor recovers. RocksDB's own stop at
  // max_write_buffer_number does give up on a background error.
  db_options.write_buffer_manager =
      std::make_shared<rocksdb::WriteBufferManager>(options.write_buffer_bytes);
  const std::vector<rocksdb::ColumnFamilyDescriptor> descriptors =
      ColumnFamilies(block_cache, options.write_buffer_bytes);
  if (options.create_if_missing) {
    std::error_code ec;  // RocksDB creates only the last directory; make the parents.
    std::filesystem::create_directories(dir, ec);
  } else if (std::error_code ec;
             !std::filesystem::exists(std::filesystem::path(dir) / "CURRENT", ec)) {
    // RocksDB would create the directory and its LOG file before finding no database there.
    return absl::NotFoundError(absl::StrCat("no store in ", dir, " (no RocksDB CURRENT file)"));
  }
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(db_options, dir, descriptors, &handles, &raw);
  if (!s.ok()) return FromRocks(s, absl::StrCat("opening store in ", dir));
  std::unique_ptr<Store> store(
      new Store(options, db_options, std::unique_ptr<rocksdb::DB>(raw), handles));
  store->statistics_ = db_options.statistics;
  store->block_cache_ = std::move(block_cache);
  store->dir_ = ResolvedPath(dir).string();

  {
    absl::ReaderMutexLock lock(&store->db_mu_);
    int stored = 0;
    absl::Status read = store->ReadSchemaVersion(&stored);
    if (absl::IsNotFound(read)) {
      // A new store, or one made before the version was recorded: those have the layout of
      // version 1.
      rocksdb::WriteOptions wo;
      wo.sync = true;
      s = raw->Put(wo, store->cf(kMeta),
                   rocksdb::Slice(kSchemaVersionKey.data(), kSchemaVersionKey.size()),
                   absl::StrCat(kSchemaVersion));
      if (!s.ok()) return FromRocks(s, "writing schema version");
    } else if (!read.ok()) {
      return read;
    } else {
      if (stored > kSchemaVersion) {
        return absl::FailedPreconditionError(absl::StrCat("data dir ", dir, " has storage schema ",
                                                          stored, "; this fieldloopd reads up to ",
                                                          kSchemaVersion, ": upgrade fieldloopd"));
      }
      store->schema_version_ = stored;
    }
    absl::Status loaded = store->LoadSequences();
    if (!loaded.ok()) return loaded;
  }
  Store* raw_store = store.get();
  store->recovery_ = std::thread([raw_store] { raw_store->RecoveryLoop(); });
  return store;
}

Store::Store(const StoreOptions& options, const rocksdb::Options& db_options,
             std::unique_ptr<rocksdb::DB> db, std::vector<rocksdb::ColumnFamilyHandle*> handles)
    : options_(options),
      db_options_(db_options),
      db_(std::move(db)),
      handles_(std::move(handles)) {}

Store::~Store() {
  {
    absl::MutexLock lock(&health_mu_);
    stopping_ = true;
  }
  if (recovery_.joinable()) recovery_.join();
  absl::WriterMutexLock lock(&db_mu_);
  CloseDb();
}

void Store::CloseDb() {
  if (db_ == nullptr) return;
  for (rocksdb::ColumnFamilyHandle* h : handles_) db_->DestroyColumnFamilyHandle(h);
  handles_.clear();
  // A database in a background error state may refuse to close cleanly (its write-ahead log
  // cannot be finished); what was acked is in the log already.
  db_->Close().PermitUncheckedError();
  db_.reset();
}

absl::Status Store::CheckOpen() const {
  if (db_ != nullptr) return absl::OkStatus();
  return absl::UnavailableError(absl::StrCat(
      "store in ", dir_, " is closed: reopening it after a storage error failed; retrying"));
}

absl::Status Store::ReadSchemaVersion(int* version) const {
  std::string text;
  rocksdb::Status s =
      db_->Get(rocksdb::ReadOptions(), cf(kMeta),
               rocksdb::Slice(kSchemaVersionKey.data(), kSchemaVersionKey.size()), &text);
  if (!s.ok()) return FromRocks(s, "reading schema version");
  if (!ParseSchemaVersion(text, version)) {
    return absl::DataLossError(
        absl::StrCat("data dir ", dir_, ": bad storage schema version '", text, "'"));
  }
  return absl::OkStatus();
}

absl::Status Store::LoadSequences() {
  absl::flat_hash_map<std::string, SequenceNumber> loaded;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), cf(kMeta)));
  const std::string prefix = LastSequenceKey("");
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    if (it->value().size() != 8) return absl::DataLossError("meta: bad sequence value");
    std::string initiative = it->key().ToString().substr(prefix.size());
    loaded[initiative] = GetBigEndian64(absl::string_view(it->value().data(), 8));
  }
  if (!it->status().ok()) return FromRocks(it->status(), "loading sequence numbers");
  absl::MutexLock lock(&mu_);
  last_seq_ = std::move(loaded);
  return absl::OkStatus();
}

absl::Status Store::Reopen() {
  absl::WriterMutexLock lock(&db_mu_);
  CloseDb();
  rocksdb::Options options = db_options_;
  options.create_if_missing = false;
  // Flush what the log replay recovers into table files at once: the old logs (which may end
  // in the batch whose append failed, possibly torn) are then obsolete and never replayed
  // again, and a later start does not depend on them.
  options.avoid_flush_during_recovery = false;
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(
      options, dir_, ColumnFamilies(block_cache_, options_.write_buffer_bytes), &handles, &raw);
  if (!s.ok()) return FromRocks(s, absl::StrCat("reopening store in ", dir_));
  db_.reset(raw);
  handles_ = std::move(handles);
  int stored = 0;
  absl::Status checked = ReadSchemaVersion(&stored);
  if (checked.ok() && stored != schema_version_) {
    checked = absl::DataLossError(absl::StrCat("data dir ", dir_, ": storage schema ", stored,
                                               " after reopening, ", schema_version_, " before"));
  }
  if (checked.ok()) checked = LoadSequences();
  if (!checked.ok()) CloseDb();
  return checked;
}

absl::StatusOr<std::vector<AppendResult>> Store::Append(absl::Span<const RecordToAppend> records) {
  for (size_t i = 0; i < records.size(); ++i) {
    const RecordToAppend& r = records[i];
    if (!IsKeyableInitiative(r.initiative)) {
      return absl::InvalidArgumentError(absl::StrCat("record ", i, ": bad initiative"));
    }
    if (r.id.empty()) return absl::InvalidArgumentError(absl::StrCat("record ", i, ": empty id"));
  }
  std::vector<AppendResult> results(records.size());
  rocksdb::WriteBatch batch;
  absl::ReaderMutexLock db_lock(&db_mu_);
  if (absl::Status open = CheckOpen(); !open.ok()) return open;
  absl::MutexLock lock(&mu_);
  // Sequence numbers and identities given within this batch, applied to the maps only when
  // the write succeeds.
  absl::flat_hash_map<std::string, SequenceNumber> next_seq;
  absl::flat_hash_map<std::string, std::pair<SequenceNumber, const std::string*>> pending_ids;
  std::string value;
  for (size_t i = 0; i < records.size(); ++i) {
    const RecordToAppend& r = records[i];
    const std::string id_key = IdKey(r.initiative, r.kind, r.id);
    const bool state = IsStateKind(r.kind);
    const std::string state_key = state ? StateKey(r.initiative, r.id) : std::string();
    const int state_cf = StateCf(r.kind);

    auto pend = pending_ids.find(id_key);
    if (pend != pending_ids.end()) {
      if (!state || *pend->second.second == r.payload) {
        results[i] = {AppendOutcome::kDuplicate, pend->second.first};
        continue;
      }
    } else {
      rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), cf(kIds), id_key, &value);
      if (s.ok()) {
        const SequenceNumber existing = GetBigEndian64(value);
        if (!state) {
          results[i] = {AppendOutcome::kDuplicate, existing};
          continue;
        }
        s = db_->Get(rocksdb::ReadOptions(), cf(state_cf), state_key, &value);
        if (!s.ok()) return FromRocks(s, "reading stored state record");
        if (value == r.payload) {
          results[i] = {AppendOutcome::kDuplicate, existing};
          continue;
        }
      } else if (!s.IsNotFound()) {
        return FromRocks(s, "reading dedupe index");
      }
    }
    auto [it, inserted] = next_seq.try_emplace(r.initiative, 0);
    if (inserted) {
      auto last = last_seq_.find(r.initiative);
      it->second = last == last_seq_.end() ? 0 : last->second;
    }
    const SequenceNumber seq = ++it->second;
    results[i] = {AppendOutcome::kAccepted, seq};
    pending_ids[id_key] = {seq, &r.payload};
    batch.Put(cf(kEvents), EventKey(r.initiative, seq), EncodeEnvelope(r));
    batch.Put(cf(kIds), id_key, Seq(seq));
    if (state) batch.Put(cf(state_cf), state_key, r.payload);
  }
  if (next_seq.empty()) return results;
  for (const auto& [initiative, seq] : next_seq) {
    batch.Put(cf(kMeta), LastSequenceKey(initiative), Seq(seq));
  }
  if (absl::Status s = Write(&batch, "writing batch"); !s.ok()) return s;
  for (const auto& [initiative, seq] : next_seq) last_seq_[initiative] = seq;
  return results;
}

SequenceNumber Store::LastSequence(absl::string_view initiative) const {
  absl::MutexLock lock(&mu_);
  auto it = last_seq_.find(initiative);
  return it == last_seq_.end() ? 0 : it->second;
}

absl::Status Store::ScanEvents(absl::string_view initiative, SequenceNumber after,
                               const std::function<bool(const StoredRecord&)>& visit) const {
  StoredRecord record;
  record.initiative = std::string(initiative);
  absl::Status decoded;
  absl::Status scanned = ScanRange(
      kEvents, InitiativePrefix(initiative), EventKey(initiative, after + 1), "scanning events",
      [&](absl::string_view key, absl::string_view value) {
        if (key.size() != 8) {
          decoded = absl::DataLossError(absl::StrCat("events: malformed key in ", initiative));
          return false;
        }
        record.sequence = GetBigEndian64(key);
        if (!DecodeEnvelope(value, &record)) {
          decoded = absl::DataLossError(
              absl::StrCat("events: malformed record ", initiative, "#", record.sequence));
          return false;
        }
        return visit(record);
      });
  return decoded.ok() ? scanned : decoded;
}

absl::StatusOr<StoredRecord> Store::Lookup(absl::string_view initiative, RecordKind kind,
                                           absl::string_view id) const {
  std::string value;
  absl::ReaderMutexLock lock(&db_mu_);
  if (absl::Status open = CheckOpen(); !open.ok()) return open;
  rocksdb::Status s =
      db_->Get(rocksdb::ReadOptions(), cf(kIds), IdKey(initiative, kind, id), &value);
  if (s.IsNotFound()) {
    return absl::NotFoundError(absl::StrCat("no record ", initiative, "/", id));
  }
  if (!s.ok()) return FromRocks(s, "reading dedupe index");
  const SequenceNumber seq = GetBigEndian64(value);
  s = db_->Get(rocksdb::ReadOptions(), cf(kEvents), EventKey(initiative, seq), &value);
  if (!s.ok()) return FromRocks(s, absl::StrCat("reading event ", initiative, "#", seq));
  StoredRecord record;
  record.initiative = std::string(initiative);
  record.sequence = seq;
  if (!DecodeEnvelope(value, &record)) {
    return absl::DataLossError(absl::StrCat("events: malformed record ", initiative, "#", seq));
  }
  return record;
}

absl::Status Store::ScanKind(absl::string_view initiative, RecordKind kind,
                             const std::function<bool(const StoredRecord&)>& visit) const {
  const std::string prefix = IdKey(initiative, kind, "");
  std::vector<SequenceNumber> sequences;
  absl::Status malformed;
  auto index = [&](absl::string_view id, absl::string_view value) {
    if (value.size() != 8) {
      malformed =
          absl::DataLossError(absl::StrCat("ids: malformed entry of ", initiative, "/", id));
      return false;
    }
    sequences.push_back(GetBigEndian64(value));
    return true;
  };
  absl::Status indexed = ScanRange(kIds, prefix, prefix, "scanning dedupe index", index);
  if (!malformed.ok()) return malformed;
  if (!indexed.ok()) return indexed;
  std::sort(sequences.begin(), sequences.end());
  // Chunks of records by key, read under the database lock; the visitor runs without it
  // (as in ScanRange), and a chunk stops at 256 records or 1 MiB of them.
  constexpr size_t kChunkRecords = 256;
  constexpr size_t kChunkBytes = 1 << 20;
  StoredRecord record;
  record.initiative = std::string(initiative);
  std::vector<std::pair<SequenceNumber, std::string>> chunk;
  size_t next = 0;
  while (next < sequences.size()) {
    chunk.clear();
    {
      absl::ReaderMutexLock lock(&db_mu_);
      if (absl::Status open = CheckOpen(); !open.ok()) return open;
      size_t bytes = 0;
      std::string value;
      while (next < sequences.size() && chunk.size() < kChunkRecords && bytes < kChunkBytes) {
        const SequenceNumber sequence = sequences[next++];
        rocksdb::Status read =
            db_->Get(rocksdb::ReadOptions(), cf(kEvents), EventKey(initiative, sequence), &value);
        if (read.IsNotFound()) continue;  // Forgotten since the index was read.
        if (!read.ok()) return FromRocks(read, "reading events by sequence");
        bytes += value.size();
        chunk.emplace_back(sequence, std::move(value));
      }
    }
    for (const auto& [sequence, value] : chunk) {
      record.sequence = sequence;
      if (!DecodeEnvelope(value, &record) || record.kind != kind) {
        return absl::DataLossError(
            absl::StrCat("events: malformed record ", initiative, "#", sequence));
      }
      if (!visit(record)) return absl::OkStatus();
    }
  }
  return absl::OkStatus();
}

absl::Status Store::ScanLatestState(
    absl::string_view initiative, RecordKind kind,
    const std::function<bool(absl::string_view, absl::string_view)>& visit) const {
  if (!IsStateKind(kind)) {
    return absl::InvalidArgumentError(
        absl::StrCat("record kind ", static_cast<int>(kind),
                     " has no latest state; content assets and onboarding metrics have"));
  }
  const std::string prefix = InitiativePrefix(initiative);
  return ScanRange(StateCf(kind), prefix, prefix, "scanning latest state", visit);
}

std::vector<std::string> Store::Initiatives() const {
  std::vector<std::string> out;
  {
    absl::MutexLock lock(&mu_);
    for (const auto& [initiative, seq] : last_seq_) {
      if (seq > 0) out.push_back(initiative);
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

absl::StatusOr<CheckpointInfo> Store::Checkpoint(const std::string& dir) const {
  if (dir.empty()) return absl::InvalidArgumentError("checkpoint: no directory given");
  const std::filesystem::path target = ResolvedPath(dir);
  if (IsSameOrInside(target, dir_)) {
    return absl::InvalidArgumentError(absl::StrCat("checkpoint directory ", target.string(),
                                                   " is inside the data dir ", dir_,
                                                   ": put it outside the store"));
  }
  std::error_code ec;
  if (std::filesystem::exists(std::filesystem::symlink_status(target, ec))) {
    return absl::AlreadyExistsError(
        absl::StrCat(target.string(), " already exists: a checkpoint needs a new directory"));
  }
  // RocksDB builds the checkpoint in "<dir>.tmp" and renames it; it first deletes the files
  // of such a directory when one exists, which could be somebody's.
  const std::string staging = target.string() + ".tmp";
  if (std::filesystem::exists(std::filesystem::symlink_status(staging, ec))) {
    return absl::AlreadyExistsError(
        absl::StrCat(staging,
                     " exists: RocksDB stages the checkpoint there and would delete its files; "
                     "move it away or pick another directory"));
  }
  std::filesystem::create_directories(target.parent_path(), ec);
  if (ec) {
    return absl::UnavailableError(
        absl::StrCat("creating ", target.parent_path().string(), ": ", ec.message()));
  }
  {
    absl::ReaderMutexLock lock(&db_mu_);
    if (absl::Status open = CheckOpen(); !open.ok()) return open;
    rocksdb::Checkpoint* raw = nullptr;
    rocksdb::Status s = rocksdb::Checkpoint::Create(db_.get(), &raw);
    if (!s.ok()) return FromRocks(s, "creating checkpoint");
    std::unique_ptr<rocksdb::Checkpoint> checkpoint(raw);
    // log_size_for_flush 0: memtables are flushed first, so the copy's SST files hold the
    // data and its write-ahead log only what arrived during the flush.
    s = checkpoint->CreateCheckpoint(target.string(), /*log_size_for_flush=*/0);
    if (!s.ok()) return FromRocks(s, absl::StrCat("writing checkpoint to ", target.string()));
  }

  CheckpointInfo info;
  info.dir = target.string();
  for (auto it = std::filesystem::recursive_directory_iterator(target, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    std::error_code size_ec;
    if (it->is_regular_file(size_ec)) {
      const uintmax_t size = it->file_size(size_ec);
      if (!size_ec) info.bytes += size;
    }
  }
  if (absl::Status described = DescribeCheckpoint(info.dir, &info); !described.ok()) {
    return described;
  }
  return info;
}

StoreStats Store::Stats() const {
  StoreStats stats;
  {
    absl::ReaderMutexLock lock(&db_mu_);
    // Both are per column family; the aggregated form sums them.
    if (db_ == nullptr ||
        !db_->GetAggregatedIntProperty(rocksdb::DB::Properties::kTotalSstFilesSize,
                                       &stats.sst_files_bytes)) {
      stats.sst_files_bytes = 0;
    }
    if (db_ == nullptr ||
        !db_->GetAggregatedIntProperty(rocksdb::DB::Properties::kEstimateLiveDataSize,
                                       &stats.live_data_bytes)) {
      stats.live_data_bytes = 0;
    }
    if (db_ != nullptr) {
      db_->GetAggregatedIntProperty(rocksdb::DB::Properties::kCurSizeAllMemTables,
                                    &stats.memtable_bytes);
      db_->GetAggregatedIntProperty(rocksdb::DB::Properties::kEstimateTableReadersMem,
                                    &stats.table_readers_bytes);
    }
    uint64_t stopped = 0;
    if (db_ != nullptr && db_->GetIntProperty(rocksdb::DB::Properties::kIsWriteStopped, &stopped)) {
      stats.writes_stopped = stopped != 0;
    }
  }
  stats.block_cache_bytes = block_cache_->GetUsage();
  if (statistics_ != nullptr) {
    stats.write_stall_micros = statistics_->getTickerCount(rocksdb::STALL_MICROS);
  }
  absl::MutexLock lock(&health_mu_);
  stats.writable = write_error_.ok();
  stats.failed_writes = failed_writes_;
  return stats;
}

absl::Status Store::Write(rocksdb::WriteBatch* batch, absl::string_view what) {
  rocksdb::WriteOptions wo;
  wo.sync = options_.sync_writes;
  absl::Status status = CheckOpen();
  if (status.ok()) status = FromRocks(db_->Write(wo, batch), what);
  SetWriteHealth(status);
  return status;
}

void Store::SetWriteHealth(const absl::Status& status) {
  absl::MutexLock lock(&health_mu_);
  if (!status.ok()) ++failed_writes_;
  const bool changed = status.ok() != write_error_.ok();
  // A failure while unwritable keeps the first error: it names the cause, later ones echo it.
  if (changed) write_error_ = status;
  if (changed && observer_) observer_(write_error_);
}

absl::Status Store::WriteHealth() const {
  absl::MutexLock lock(&health_mu_);
  return write_error_;
}

void Store::SetWriteHealthObserver(WriteHealthObserver observer) {
  absl::MutexLock lock(&health_mu_);
  observer_ = std::move(observer);
  if (observer_) observer_(write_error_);
}

absl::Status Store::ProbeSpace() const {
  // Through the store's Env, so the probe meets the same file system as RocksDB does.
  rocksdb::Env* env = options_.env != nullptr ? options_.env : rocksdb::Env::Default();
  const std::shared_ptr<rocksdb::FileSystem>& fs = env->GetFileSystem();
  const std::string path = (std::filesystem::path(dir_) / kSpaceProbeFile).string();
  std::unique_ptr<rocksdb::FSWritableFile> file;
  rocksdb::IOStatus s = fs->NewWritableFile(path, rocksdb::FileOptions(), &file, nullptr);
  if (s.ok()) {
    const std::string block(64 << 10, '\0');
    for (size_t written = 0; s.ok() && written < kSpaceProbeBytes; written += block.size()) {
      s = file->Append(block, rocksdb::IOOptions(), nullptr);
    }
    if (s.ok()) s = file->Sync(rocksdb::IOOptions(), nullptr);
    rocksdb::IOStatus closed = file->Close(rocksdb::IOOptions(), nullptr);
    if (s.ok()) s = closed;
    file.reset();
    fs->DeleteFile(path, rocksdb::IOOptions(), nullptr).PermitUncheckedError();
  }
  return FromRocks(s, absl::StrCat("probing free space with ", path));
}

absl::Status Store::ProbeWrite() {
  // Resume can succeed without a write having been tried: prove one works, with a write
  // that changes nothing.
  absl::ReaderMutexLock lock(&db_mu_);
  if (absl::Status open = CheckOpen(); !open.ok()) return open;
  rocksdb::WriteOptions wo;
  wo.sync = true;
  rocksdb::Status s =
      db_->Put(wo, cf(kMeta), rocksdb::Slice(kSchemaVersionKey.data(), kSchemaVersionKey.size()),
               absl::StrCat(schema_version_));
  return FromRocks(s, "probing writes");
}

absl::Status Store::TryResume() {
  // Resume (or a reopen) while the disk is still full would fail and could make the error
  // fatal; wait until a file can be written.
  if (absl::Status space = ProbeSpace(); !space.ok()) return space;
  bool reopen = true;  // Also when a reopen failed before and left the database closed.
  {
    absl::ReaderMutexLock lock(&db_mu_);
    if (db_ != nullptr) {
      // OK at once when RocksDB is not stopped; Busy while its own automatic recovery runs;
      // otherwise it flushes the memtables into a new write-ahead log and SST files, which
      // fails while the disk still cannot take them. It returns the background error itself
      // when that is fatal or unrecoverable (e.g. after a failed write-ahead-log append
      // that RocksDB's own recovery retried on a full disk): only reopening clears it.
      rocksdb::Status s = db_->Resume();
      if (!s.ok() && s.severity() < rocksdb::Status::Severity::kFatalError) {
        return FromRocks(s, "resuming writes");
      }
      reopen = !s.ok();
    }
  }
  if (reopen) {
    if (absl::Status reopened = Reopen(); !reopened.ok()) return reopened;
  }
  return ProbeWrite();
}

void Store::RecoveryLoop() {
  constexpr absl::Duration kFirstWait = absl::Milliseconds(200);
  constexpr absl::Duration kLongestWait = absl::Seconds(1);
  absl::Duration wait = kFirstWait;
  while (true) {
    {
      absl::MutexLock lock(&health_mu_);
      health_mu_.Await(absl::Condition(
          +[](Store* self) ABSL_NO_THREAD_SAFETY_ANALYSIS {
            return self->stopping_ || !self->write_error_.ok();
          },
          this));
      if (stopping_) return;
      if (health_mu_.AwaitWithTimeout(absl::Condition(&stopping_), wait)) return;
      if (write_error_.ok()) {  // A write succeeded meanwhile.
        wait = kFirstWait;
        continue;
      }
    }
    if (TryResume().ok()) {
      SetWriteHealth(absl::OkStatus());
      wait = kFirstWait;
    } else {
      wait = std::min(wait * 2, kLongestWait);
    }
  }
}

absl::Status Store::WriteThemeState(absl::string_view initiative,
                                    const std::vector<std::pair<std::string, std::string>>& puts,
                                    SequenceNumber applied) {
  if (!IsKeyableInitiative(initiative)) {
    return absl::InvalidArgumentError("bad initiative");
  }
  rocksdb::WriteBatch batch;
  const std::string prefix = InitiativePrefix(initiative);
  absl::ReaderMutexLock lock(&db_mu_);
  if (absl::Status open = CheckOpen(); !open.ok()) return open;
  for (const auto& [suffix, value] : puts) batch.Put(cf(kThemes), prefix + suffix, value);
  batch.Put(cf(kMeta), AppliedKey(initiative), Seq(applied));
  return Write(&batch, "writing theme state");
}

absl::StatusOr<SequenceNumber> Store::ForgetRecords(
    absl::string_view initiative, absl::Span<const StoredRecord> records,
    const std::vector<std::pair<std::string, std::string>>& theme_puts,
    SequenceNumber expected_last) {
  if (!IsKeyableInitiative(initiative)) return absl::InvalidArgumentError("bad initiative");
  rocksdb::WriteBatch batch;
  absl::ReaderMutexLock db_lock(&db_mu_);
  if (absl::Status open = CheckOpen(); !open.ok()) return open;
  for (const StoredRecord& r : records) {
    if (r.id.empty()) return absl::InvalidArgumentError("record to forget with an empty id");
    batch.Delete(cf(kEvents), EventKey(initiative, r.sequence));
    batch.Delete(cf(kIds), IdKey(initiative, r.kind, r.id));
    if (IsStateKind(r.kind)) {
      batch.Delete(cf(StateCf(r.kind)), StateKey(initiative, r.id));
    }
  }
  // The old theme state goes as a whole: it may hold quotes, record ids and terms of the
  // forgotten records under any key.
  const std::string prefix = InitiativePrefix(initiative);
  {
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), cf(kThemes)));
    for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
      batch.Delete(cf(kThemes), it->key());
    }
    if (!it->status().ok()) return FromRocks(it->status(), "scanning theme state to replace");
  }
  for (const auto& [suffix, value] : theme_puts) batch.Put(cf(kThemes), prefix + suffix, value);

  absl::MutexLock lock(&mu_);
  auto last = last_seq_.find(initiative);
  const SequenceNumber stored = last == last_seq_.end() ? 0 : last->second;
  if (stored != expected_last) {
    return absl::AbortedError(absl::StrCat("forgetting records of ", initiative, ": sequence ",
                                           stored, " was stored since ", expected_last,
                                           " was read"));
  }
  const SequenceNumber burnt = stored + 1;
  batch.Put(cf(kMeta), LastSequenceKey(initiative), Seq(burnt));
  batch.Put(cf(kMeta), AppliedKey(initiative), Seq(burnt));
  if (absl::Status s = Write(&batch, "writing forgotten records"); !s.ok()) return s;
  last_seq_[std::string(initiative)] = burnt;
  return burnt;
}

absl::Status Store::ScanInitiative(
    int column_family, absl::string_view initiative, const char* what,
    const std::function<void(absl::string_view, absl::string_view)>& visit) const {
  const std::string prefix = InitiativePrefix(initiative);
  return ScanRange(column_family, prefix, prefix, what,
                   [&](absl::string_view key, absl::string_view value) {
                     visit(key, value);
                     return true;
                   });
}

absl::Status Store::ScanRange(
    int column_family, const std::string& prefix, const std::string& start, const char* what,
    const std::function<bool(absl::string_view, absl::string_view)>& visit) const {
  // Enough to make the locking and the re-seek per chunk cheap, small enough to bound the
  // memory of a copy.
  constexpr size_t kChunkEntries = 256;
  constexpr size_t kChunkBytes = 1 << 20;
  std::string from = start;
  std::vector<std::pair<std::string, std::string>> chunk;
  while (true) {
    chunk.clear();
    bool more = false;
    {
      absl::ReaderMutexLock lock(&db_mu_);
      if (absl::Status open = CheckOpen(); !open.ok()) return open;
      std::unique_ptr<rocksdb::Iterator> it(
          db_->NewIterator(rocksdb::ReadOptions(), cf(column_family)));
      size_t bytes = 0;
      for (it->Seek(from); it->Valid() && it->key().starts_with(prefix); it->Next()) {
        if (chunk.size() == kChunkEntries || bytes >= kChunkBytes) {
          more = true;
          break;
        }
        bytes += it->key().size() + it->value().size();
        chunk.emplace_back(it->key().ToString(), it->value().ToString());
      }
      if (!it->status().ok()) return FromRocks(it->status(), what);
    }
    // The visitor runs without the database lock: it may use the store, and take locks
    // that are held elsewhere while calling the store.
    for (const auto& [key, value] : chunk) {
      if (!visit(absl::string_view(key).substr(prefix.size()), value)) return absl::OkStatus();
    }
    if (!more) return absl::OkStatus();
    from = chunk.back().first;
    from.push_back('\0');  // The first key after it.
  }
}

absl::Status Store::ScanThemeState(
    absl::string_view initiative,
    const std::function<void(absl::string_view, absl::string_view)>& visit) const {
  return ScanInitiative(kThemes, initiative, "scanning theme state", visit);
}

absl::Status Store::PutTasks(absl::string_view initiative,
                             const std::vector<std::pair<std::string, std::string>>& puts) {
  if (!IsKeyableInitiative(initiative)) {
    return absl::InvalidArgumentError("task records need an initiative without 0x00");
  }
  const std::string prefix = InitiativePrefix(initiative);
  rocksdb::WriteBatch batch;
  absl::ReaderMutexLock lock(&db_mu_);
  if (absl::Status open = CheckOpen(); !open.ok()) return open;
  for (const auto& [key, value] : puts) {
    if (key.empty()) return absl::InvalidArgumentError("task record with an empty key");
    rocksdb::Status s = batch.Put(cf(kTasks), prefix + key, value);
    if (!s.ok()) return FromRocks(s, "batching task records");
  }
  return Write(&batch, "writing task records");
}

absl::Status Store::ScanTasks(
    absl::string_view initiative,
    const std::function<void(absl::string_view, absl::string_view)>& visit) const {
  return ScanInitiative(kTasks, initiative, "scanning task records", visit);
}

absl::StatusOr<SequenceNumber> Store::AppliedSequence(absl::string_view initiative) const {
  std::string value;
  absl::ReaderMutexLock lock(&db_mu_);
  if (absl::Status open = CheckOpen(); !open.ok()) return open;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), cf(kMeta), AppliedKey(initiative), &value);
  if (s.IsNotFound()) return SequenceNumber{0};
  if (!s.ok()) return FromRocks(s, "reading applied watermark");
  if (value.size() != 8) return absl::DataLossError("meta: bad applied watermark");
  return GetBigEndian64(value);
}

}  // namespace fieldloop::storage
