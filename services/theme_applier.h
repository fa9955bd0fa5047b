// ThemeApplier: keeps theme state current. Applies stored records to each initiative's
// ThemeModel in sequence order and writes the changed theme state together with the
// applied watermark in one WriteBatch, so every durable record is reflected exactly once:
// after a crash, Start replays what follows the watermark. Knows nothing of gRPC.
//
// Acks mean durable, not applied: theme state trails acks briefly. WaitApplied (and the
// Ingest.WaitApplied RPC built on it) waits until a sequence number is applied.
#ifndef FIELDLOOP_SERVICES_THEME_APPLIER_H_
#define FIELDLOOP_SERVICES_THEME_APPLIER_H_

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "pipeline/theme_model.h"
#include "services/event_log.h"
#include "services/metrics.h"
#include "services/theme_feed.h"
#include "storage/store.h"

namespace fieldloop::services {

struct ApplierOptions {
  // Model parameters (normalization and clusterer); the defaults are fieldloop eval's.
  pipeline::ModelOptions model;
  // Most records applied per WriteBatch of theme state.
  // Default: 4096.
  int batch_records = 4096;
  // Where theme changes are published (Themes.WatchThemes), after each batch is durable and
  // at load; nullptr: nowhere. Must outlive the applier.
  ThemeFeed* feed = nullptr;
  // Where the applied watermark and live themes of each initiative are reported, at Start
  // and after each batch (apply lag, themes per initiative); must outlive the applier.
  // Default: nullptr (not reported, no cost).
  ServerMetrics* metrics = nullptr;
  // Where the applier logs: at Start the initiatives loaded and the records after their
  // watermarks to replay, once replayed how many were (INFO); a batch that failed (ERROR; in
  // a run of failures of one initiative the 1st, 2nd, 4th, ... and the recovery); each batch
  // applied (DEBUG). Must outlive the applier. Default: nullptr (nothing logged).
  EventLog* log = nullptr;
};

struct ApplierStats {
  uint64_t applied = 0;      // Records applied since start.
  uint64_t replayed = 0;     // Of which found after the watermark at start.
  uint64_t undecodable = 0;  // Stored payloads that did not parse (skipped).
};

class ThemeApplier {
 public:
  // `store` must outlive the applier.
  ThemeApplier(storage::Store* store, ApplierOptions options = {});
  // Stops.
  ~ThemeApplier();
  ThemeApplier(const ThemeApplier&) = delete;
  ThemeApplier& operator=(const ThemeApplier&) = delete;

  // Loads every initiative's theme state and watermark, and starts the applier thread,
  // which first replays the records after each watermark. Theme state written before the
  // input counts were kept (see Inputs) gets them here, counted once from the events log.
  // Returns the store's error.
  absl::Status Start() ABSL_LOCKS_EXCLUDED(apply_mu_, mu_);

  // Tells the applier that records were appended. Cheap; call after each commit.
  void Notify() ABSL_LOCKS_EXCLUDED(mu_);

  // Calls `done(applied)` once every record of `initiative` with sequence <= `sequence` is
  // applied, or `done(DeadlineExceeded)` at `deadline`, or at once
  // `done(FailedPrecondition)` when the applier was not started or is stopping. `sequence`
  // 0 means the last sequence number stored when called. Runs `done` on the applier thread
  // or inline.
  void WhenApplied(const std::string& initiative, storage::SequenceNumber sequence,
                   absl::Time deadline,
                   std::function<void(absl::StatusOr<storage::SequenceNumber>)> done)
      ABSL_LOCKS_EXCLUDED(mu_);

  // Blocking form of WhenApplied.
  absl::StatusOr<storage::SequenceNumber> WaitApplied(const std::string& initiative,
                                                      storage::SequenceNumber sequence,
                                                      absl::Time deadline);

  // Summary of one live theme; nullopt when the initiative or live theme is unknown.
  std::optional<pipeline::ThemeSummary> Summary(const std::string& initiative,
                                                pipeline::ThemeId theme) const
      ABSL_LOCKS_EXCLUDED(mu_);

  // Summaries of the live themes of `initiative` (empty when unknown).
  std::vector<pipeline::ThemeSummary> Summaries(const std::string& initiative) const
      ABSL_LOCKS_EXCLUDED(mu_);

  // The counts of the records of `initiative` its theme model took in
  // (pipeline::CountInput over them; they follow the model as Summaries do, Forget
  // rebuilds included); nullopt when the initiative is unknown or the applier is not
  // running (not started, or stopped: its counts would not follow new records).
  std::optional<state::InputCounts> Inputs(const std::string& initiative) const
      ABSL_LOCKS_EXCLUDED(mu_);

  // Summaries and Inputs of `initiative` read together, from the same applied batch.
  struct Snapshot {
    std::vector<pipeline::ThemeSummary> summaries;
    std::optional<state::InputCounts> inputs;
  };
  Snapshot SummariesAndInputs(const std::string& initiative) const ABSL_LOCKS_EXCLUDED(mu_);

  // The id `theme` of `initiative` lives on as after merges and Forget rebuilds (see
  // RemoveRecords): itself when live or the initiative is unknown, -1 when the id was
  // never given or its theme's records were all forgotten.
  pipeline::ThemeId ResolveTheme(const std::string& initiative, pipeline::ThemeId theme) const
      ABSL_LOCKS_EXCLUDED(mu_);

  // Selects records for RemoveRecords: called with each stored record and its payload
  // parsed (nullptr when the payload does not parse); true removes the record.
  using RecordFilter =
      std::function<bool(const storage::StoredRecord&, const fieldloop::v1::IngestRequest*)>;

  // What RemoveRecords did.
  struct Removal {
    // The records removed, in sequence order, without their payloads. Empty: nothing
    // matched and nothing was written.
    std::vector<storage::StoredRecord> removed;
    // The initiative's new last sequence and applied watermark, held by no record (the
    // version WatchThemes reports the rebuilt themes at); 0 when nothing was removed.
    storage::SequenceNumber version = 0;
    // Live themes before and after.
    size_t themes_before = 0, themes_after = 0;
  };

  // Removes the records of `initiative` that `drop` selects from the store and rebuilds its
  // theme state from the records left: a fresh ThemeModel replays them in sequence order,
  // and the removal, the new theme state (replacing all of the old: no quote, record id or
  // term of a removed record survives in it) and the new watermark are one atomic write
  // (storage::Store::ForgetRecords). Then the in-memory model is replaced and the themes
  // are published to the feed (ThemeFeed::Replace). The rebuilt themes get ids above every
  // id the old model gave, and each old id resolves (ResolveTheme) to the rebuilt theme
  // holding most of its theme's records left, or to -1 when none is left
  // (pipeline/theme_succession.h: a second model replays the records the old one applied,
  // to know which records each old theme held); these aliases are stored like merges, so
  // task records keyed by an old id follow their theme. When that replay does not give the
  // old model back (model options changed), no old id resolves to anything (a warning is
  // logged). No batch is applied meanwhile; appends go on, and records appended
  // while it runs are read and matched too (it retries until it saw every record stored
  // when it writes; Unavailable after many retries). Works whether or not the applier was
  // started. Returns the store's error (nothing removed then).
  absl::StatusOr<Removal> RemoveRecords(const std::string& initiative, const RecordFilter& drop)
      ABSL_LOCKS_EXCLUDED(mu_, apply_mu_);

  // Stops the thread after the batch in progress. Idempotent.
  void Stop() ABSL_LOCKS_EXCLUDED(mu_);

  ApplierStats stats() const ABSL_LOCKS_EXCLUDED(mu_);

  // Records stored but not applied yet, over every initiative.
  uint64_t Backlog() const ABSL_LOCKS_EXCLUDED(mu_);

  // Blocks while more than `max_records` stored records are not applied yet (Backlog), for
  // at most `max_wait`. Returns at once when the applier is not running or is stopping.
  // Ingest calls it before each write so that it cannot outrun theme state for long.
  void WaitForBacklogAtMost(uint64_t max_records, absl::Duration max_wait) const
      ABSL_LOCKS_EXCLUDED(mu_);

 private:
  struct Initiative {
    std::unique_ptr<pipeline::ThemeModel> model;
    storage::SequenceNumber applied = 0;
    // Version (applied sequence) each theme was created at, for ThemeState.created_at.
    absl::flat_hash_map<pipeline::ThemeId, int64_t> created_at;
    // The model took in records whose theme state could not be stored (the write failed):
    // the next batch first replaces it with the stored state, whose watermark was written
    // with it, so those records are applied exactly once. Readers meanwhile see the model.
    bool stale = false;
  };
  struct Waiter {
    std::string initiative;
    storage::SequenceNumber sequence;
    absl::Time deadline;
    std::function<void(absl::StatusOr<storage::SequenceNumber>)> done;
  };

  absl::StatusOr<Initiative*> Load(const std::string& initiative)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(apply_mu_, mu_);
  // The stored theme state and watermark of `initiative`, published to the feed. When the
  // stored state has no input counts, counts the records up to the watermark and stores
  // the counts with it at once (hence apply_mu_: no other writer of theme state meanwhile);
  // if that write fails they are stored with the next batch. Needs no mu_ (ApplyBatch
  // reloads a stale model without it, so that counting does not block readers).
  absl::StatusOr<Initiative> LoadStored(const std::string& initiative)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(apply_mu_);
  uint64_t BacklogLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  std::optional<state::InputCounts> InputsLocked(const std::string& initiative) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Loop();
  // Applies up to batch_records records of `initiative`; returns how many. Returns the
  // store's write error at once while it cannot write.
  absl::StatusOr<int> ApplyBatch(const std::string& initiative) ABSL_LOCKS_EXCLUDED(mu_, apply_mu_);
  void CompleteWaiters() ABSL_LOCKS_EXCLUDED(mu_);

  storage::Store* const store_;
  const ApplierOptions options_;

  // Held by ApplyBatch and RemoveRecords for their whole run, so a rebuild never races a
  // batch over the model or the theme state. Taken before mu_.
  absl::Mutex apply_mu_ ABSL_ACQUIRED_BEFORE(mu_);
  mutable absl::Mutex mu_;
  std::map<std::string, Initiative> initiatives_ ABSL_GUARDED_BY(mu_);
  std::vector<Waiter> waiters_ ABSL_GUARDED_BY(mu_);
  bool pending_ ABSL_GUARDED_BY(mu_) = false;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  bool started_ ABSL_GUARDED_BY(mu_) = false;
  bool replaying_ ABSL_GUARDED_BY(mu_) = true;
  absl::Time replay_start_ ABSL_GUARDED_BY(mu_);  // When Start began the replay.
  ApplierStats stats_ ABSL_GUARDED_BY(mu_);
  std::thread thread_;
};

}  // namespace fieldloop::services

#endif  // FIELDLOOP_SERVICES_THEME_APPLIER_H_
