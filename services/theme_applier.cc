#include "services/theme_applier.h"

#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "pipeline/input_counts.h"
#include "pipeline/theme_succession.h"
#include "storage/keys.h"

namespace fieldloop::services {
namespace {

// Key suffixes of theme state in the themes CF (after "<initiative>\0").
constexpr char kGlobalsKey[] = "g";
std::string ThemeKey(int64_t id) {
  std::string k = "t";
  storage::PutBigEndian64(&k, static_cast<uint64_t>(id));
  return k;
}
std::string TermKey(int32_t id) {
  std::string k = "v";
  storage::PutBigEndian64(&k, static_cast<uint64_t>(id));
  return k;
}

}  // namespace

ThemeApplier::ThemeApplier(storage::Store* store, ApplierOptions options)
    : store_(store), options_(std::move(options)) {}

ThemeApplier::~ThemeApplier() { Stop(); }

absl::StatusOr<ThemeApplier::Initiative*> ThemeApplier::Load(const std::string& initiative) {
  auto it = initiatives_.find(initiative);
  if (it != initiatives_.end()) return &it->second;
  absl::StatusOr<Initiative> loaded = LoadStored(initiative);
  if (!loaded.ok()) return loaded.status();
  return &initiatives_.emplace(initiative, std::move(*loaded)).first->second;
}

absl::StatusOr<ThemeApplier::Initiative> ThemeApplier::LoadStored(const std::string& initiative) {
  Initiative loaded;
  loaded.model = std::make_unique<pipeline::ThemeModel>(options_.model);
  absl::StatusOr<storage::SequenceNumber> applied = store_->AppliedSequence(initiative);
  if (!applied.ok()) return applied.status();
  loaded.applied = *applied;
  if (loaded.applied > 0) {
    fieldloop::state::ClustererGlobals globals;
    std::vector<fieldloop::state::TermState> terms;
    std::vector<fieldloop::state::ThemeState> themes;
    bool corrupt = false;
    absl::Status s =
        store_->ScanThemeState(initiative, [&](absl::string_view key, absl::string_view value) {
          bool ok = true;
          if (key == kGlobalsKey) {
            ok = globals.ParseFromArray(value.data(), static_cast<int>(value.size()));
          } else if (!key.empty() && key[0] == 'v') {
            ok = terms.emplace_back().ParseFromArray(value.data(), static_cast<int>(value.size()));
          } else if (!key.empty() && key[0] == 't') {
            ok = themes.emplace_back().ParseFromArray(value.data(), static_cast<int>(value.size()));
          }
          corrupt = corrupt || !ok;
        });
    if (!s.ok()) return s;
    if (corrupt) {
      return absl::DataLossError(absl::StrCat("theme state of ", initiative, " does not parse"));
    }
    loaded.model->Import(globals, terms, themes);
    if (loaded.model->inputs() == nullptr) {
      // State of a build that kept no input counts: count the records it reflects, once.
      const absl::Time start = absl::Now();
      fieldloop::state::InputCounts counts;
      fieldloop::v1::IngestRequest request;
      uint64_t records = 0;
      absl::Status counted =
          store_->ScanEvents(initiative, 0, [&](const storage::StoredRecord& record) {
            if (record.sequence > loaded.applied) return false;
            ++records;
            if (request.ParseFromString(record.payload)) pipeline::CountInput(request, &counts);
            return true;
          });
      if (!counted.ok()) return counted;
      *globals.mutable_inputs() = counts;
      loaded.model->SetInputs(std::move(counts));
      absl::Status stored = store_->WriteThemeState(
          initiative, {{kGlobalsKey, globals.SerializeAsString()}}, loaded.applied);
      if (options_.log != nullptr) {
        if (stored.ok()) {
          options_.log->Info("applier",
                             "counted the inputs of %s once (theme state written before they "
                             "were kept): %d records in %.3fs",
                             initiative, records, absl::ToDoubleSeconds(absl::Now() - start));
        } else {
          options_.log->Warning("applier",
                                "counted the inputs of %s but could not store them (stored "
                                "with the next batch): %s",
                                initiative, stored.message());
        }
      }
    }
    std::vector<ThemeFeed::Entry> entries;
    for (const auto& t : themes) {
      loaded.created_at[t.id()] = t.created_at();
      entries.push_back(
          {t.id(), t.created_at(), t.changed_at(), t.merged_into(), t.book().mentions()});
    }
    if (options_.feed != nullptr) {
      options_.feed->Publish(initiative, static_cast<int64_t>(loaded.applied), entries);
    }
  }
  return loaded;
}

absl::Status ThemeApplier::Start() {
  absl::MutexLock apply(&apply_mu_);  // Loading may store input counts (LoadStored).
  absl::MutexLock lock(&mu_);
  if (started_) return absl::OkStatus();
  const std::vector<std::string> initiatives = store_->Initiatives();
  uint64_t to_replay = 0;
  for (const std::string& initiative : initiatives) {
    absl::StatusOr<Initiative*> loaded = Load(initiative);
    if (!loaded.ok()) return loaded.status();
    if (options_.metrics != nullptr) {
      options_.metrics->RecordApplied(initiative, (*loaded)->applied,
                                      (*loaded)->model->clusterer().LiveThemes().size());
    }
    const storage::SequenceNumber last = store_->LastSequence(initiative);
    if (last > (*loaded)->applied) to_replay += last - (*loaded)->applied;
  }
  if (options_.log != nullptr) {
    options_.log->Info("applier",
                       "started: theme state of %d initiatives loaded; %d records after their "
                       "watermarks to replay",
                       initiatives.size(), to_replay);
  }
  replay_start_ = absl::Now();
  started_ = true;
  pending_ = true;  // Replay what follows the watermarks.
  thread_ = std::thread([this] { Loop(); });
  return absl::OkStatus();
}

void ThemeApplier::Notify() {
  absl::MutexLock lock(&mu_);
  pending_ = true;
}

void ThemeApplier::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (thread_.joinable()) thread_.join();
  // Fail the waiters left.
  std::vector<Waiter> left;
  {
    absl::MutexLock lock(&mu_);
    left.swap(waiters_);
  }
  for (Waiter& w : left) w.done(absl::UnavailableError("server shutting down"));
}

ApplierStats ThemeApplier::stats() const {
  absl::MutexLock lock(&mu_);
  return stats_;
}

uint64_t ThemeApplier::BacklogLocked() const {
  uint64_t backlog = 0;
  for (const std::string& initiative : store_->Initiatives()) {
    const auto it = initiatives_.find(initiative);
    const storage::SequenceNumber applied = it == initiatives_.end() ? 0 : it->second.applied;
    const storage::SequenceNumber last = store_->LastSequence(initiative);
    if (last > applied) backlog += last - applied;
  }
  return backlog;
}

uint64_t ThemeApplier::Backlog() const {
  absl::MutexLock lock(&mu_);
  return BacklogLocked();
}

void ThemeApplier::WaitForBacklogAtMost(uint64_t max_records, absl::Duration max_wait) const {
  absl::MutexLock lock(&mu_);
  auto room = [this, max_records]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return !started_ || stopping_ || BacklogLocked() <= max_records;
  };
  mu_.AwaitWithTimeout(absl::Condition(&room), max_wait);
}

std::optional<pipeline::ThemeSummary> ThemeApplier::Summary(const std::string& initiative,
                                                            pipeline::ThemeId theme) const {
  absl::MutexLock lock(&mu_);
  auto it = initiatives_.find(initiative);
  if (it == initiatives_.end()) return std::nullopt;
  return it->second.model->Summary(theme);
}

std::vector<pipeline::ThemeSummary> ThemeApplier::Summaries(const std::string& initiative) const {
  absl::MutexLock lock(&mu_);
  auto it = initiatives_.find(initiative);
  if (it == initiatives_.end()) return {};
  return it->second.model->Summaries();
}

std::optional<state::InputCounts> ThemeApplier::Inputs(const std::string& initiative) const {
  absl::MutexLock lock(&mu_);
  return InputsLocked(initiative);
}

std::optional<state::InputCounts> ThemeApplier::InputsLocked(const std::string& initiative) const {
  auto it = initiatives_.find(initiative);
  if (!started_ || stopping_ || it == initiatives_.end() || it->second.model->inputs() == nullptr) {
    return std::nullopt;
  }
  return *it->second.model->inputs();
}

ThemeApplier::Snapshot ThemeApplier::SummariesAndInputs(const std::string& initiative) const {
  Snapshot snapshot;
  absl::MutexLock lock(&mu_);
  auto it = initiatives_.find(initiative);
  if (it == initiatives_.end()) return snapshot;
  snapshot.summaries = it->second.model->Summaries();
  snapshot.inputs = InputsLocked(initiative);
  return snapshot;
}

pipeline::ThemeId ThemeApplier::ResolveTheme(const std::string& initiative,
                                             pipeline::ThemeId theme) const {
  absl::MutexLock lock(&mu_);
  auto it = initiatives_.find(initiative);
  if (it == initiatives_.end()) return theme;
  return it->second.model->clusterer().Resolve(theme);
}

absl::StatusOr<int> ThemeApplier::ApplyBatch(const std::string& initiative) {
  // The model is only touched by the applier thread and RemoveRecords, both under
  // apply_mu_, so it is used without holding mu_ while records are read and applied; mu_
  // guards the map and the watermark.
  absl::MutexLock apply(&apply_mu_);
  Initiative* state;
  bool stale;
  {
    absl::MutexLock lock(&mu_);
    absl::StatusOr<Initiative*> loaded = Load(initiative);
    if (!loaded.ok()) return loaded.status();
    state = *loaded;  // std::map: the node stays put.
    stale = state->stale;
  }
  if (stale) {
    // Read without mu_: loading state written before input counts were kept counts the
    // events log, which must not hold up Summaries, Notify or WhenApplied.
    absl::StatusOr<Initiative> stored = LoadStored(initiative);
    if (!stored.ok()) return stored.status();
    absl::MutexLock lock(&mu_);
    *state = std::move(*stored);
  }
  storage::SequenceNumber last = state->applied;
  int count = 0;
  uint64_t undecodable = 0;
  fieldloop::v1::IngestRequest request;
  absl::Status scan =
      store_->ScanEvents(initiative, state->applied, [&](const storage::StoredRecord& record) {
        if (!request.ParseFromString(record.payload)) {
          ++undecodable;
        } else {
          absl::MutexLock lock(&mu_);  // Summaries() reads the model.
          state->model->Apply(request);
        }
        last = record.sequence;
        return ++count < options_.batch_records;
      });
  if (!scan.ok()) return scan;
  if (count == 0) return 0;
  std::vector<std::pair<std::string, std::string>> puts;
  std::vector<ThemeFeed::Entry> feed_entries;
  {
    absl::MutexLock lock(&mu_);
    pipeline::ThemeModel::Changes changes = state->model->TakeChanges();
    for (auto& t : changes.themes) {
      t.set_created_at(state->created_at.emplace(t.id(), static_cast<int64_t>(last)).first->second);
      t.set_changed_at(static_cast<int64_t>(last));
      feed_entries.push_back(
          {t.id(), t.created_at(), t.changed_at(), t.merged_into(), t.book().mentions()});
    }
    puts.reserve(changes.themes.size() + changes.terms.size() + 1);
    for (const auto& t : changes.themes) puts.emplace_back(ThemeKey(t.id()), t.SerializeAsString());
    for (const auto& t : changes.terms) puts.emplace_back(TermKey(t.term()), t.SerializeAsString());
    puts.emplace_back(kGlobalsKey, changes.globals.SerializeAsString());
  }
  absl::Status written = store_->WriteThemeState(initiative, puts, last);
  if (!written.ok()) {
    absl::MutexLock lock(&mu_);
    state->stale = true;
    return written;
  }
  if (options_.feed != nullptr) {
    options_.feed->Publish(initiative, static_cast<int64_t>(last), feed_entries);
  }
  absl::MutexLock lock(&mu_);
  state->applied = last;
  stats_.applied += count;
  stats_.undecodable += undecodable;
  if (replaying_) stats_.replayed += count;
  if (options_.metrics != nullptr ||
      (options_.log != nullptr && options_.log->Enabled(LogLevel::kDebug))) {
    const size_t live = state->model->clusterer().LiveThemes().size();
    if (options_.metrics != nullptr) options_.metrics->RecordApplied(initiative, last, live);
    if (options_.log != nullptr) {
      options_.log->Debug("applier",
                          "applied %d records of %s up to sequence %d: %d themes changed, %d live",
                          count, initiative, last, feed_entries.size(), live);
    }
  }
  return count;
}

absl::StatusOr<ThemeApplier::Removal> ThemeApplier::RemoveRecords(const std::string& initiative,
                                                                  const RecordFilter& drop) {
  Removal out;
  {
    absl::MutexLock apply(&apply_mu_);
    // The model being replaced, and what it applied: the replica replays those records
    // (pipeline/theme_succession.h). Stored theme state that does not load leaves no old
    // model: its ids cannot be carried over.
    const pipeline::ThemeModel* old_model = nullptr;
    storage::SequenceNumber old_applied = 0;
    {
      absl::MutexLock lock(&mu_);
      absl::StatusOr<Initiative*> loaded = Load(initiative);
      if (loaded.ok()) {
        old_model = (*loaded)->model.get();
        old_applied = (*loaded)->applied;
      } else if (options_.log != nullptr) {
        options_.log->Warning("applier",
                              "theme state of %s does not load (%s): forgetting rebuilds it "
                              "without carrying its theme ids over",
                              initiative, loaded.status().message());
      }
    }
    // Old ids never name a new theme: the rebuilt themes get ids above them, and an old id
    // only resolves to the theme it lives on as (an alias, like a merge).
    auto model = std::make_unique<pipeline::ThemeModel>(options_.model);
    std::unique_ptr<pipeline::ThemeModel> replica;  // None without an old model.
    if (old_model != nullptr) {
      model->RetireThemes(old_model->clusterer().num_ids());
      replica = std::make_unique<pipeline::ThemeModel>(options_.model);
    }
    std::vector<pipeline::DocumentThemes> documents;  // Of the records left, in both models.
    bool replayed = true;  // The replica's documents pair up with the rebuilt model's.
    bool aliased = false;
    // The rebuilt state so far, by key: later TakeChanges overwrite earlier ones.
    std::map<int64_t, fieldloop::state::ThemeState> themes;
    std::map<int32_t, fieldloop::state::TermState> terms;
    fieldloop::state::ClustererGlobals globals;
    storage::SequenceNumber read = 0;  // Every record up to it was seen.
    fieldloop::v1::IngestRequest request;
    // Records appended between the read and the write make ForgetRecords refuse (Aborted);
    // the next round reads only those.
    constexpr int kRounds = 50;
    for (int round = 0;; ++round) {
      if (round == kRounds) {
        return absl::UnavailableError(
            absl::StrCat("records of ", initiative, " kept arriving while forgetting; retry"));
      }
      const storage::SequenceNumber last = store_->LastSequence(initiative);
      absl::Status scan =
          store_->ScanEvents(initiative, read, [&](const storage::StoredRecord& record) {
            if (record.sequence > last) return false;
            const bool parsed = request.ParseFromString(record.payload);
            // In the old model too: the replica replays it.
            const bool in_old = replica != nullptr && record.sequence <= old_applied;
            if (drop(record, parsed ? &request : nullptr)) {
              storage::StoredRecord& gone = out.removed.emplace_back(record);
              gone.payload.clear();
              if (parsed && in_old) replica->Apply(request);
            } else if (parsed) {
              const std::vector<pipeline::ThemeId> joined = model->Apply(request);
              if (in_old) {
                const std::vector<pipeline::ThemeId> was = replica->Apply(request);
                // The same record gives the same documents, each joining a theme or not.
                replayed = replayed && was.size() == joined.size();
                for (size_t i = 0; replayed && i < joined.size(); ++i) {
                  documents.emplace_back(was[i], joined[i]);
                }
              }
            }
            return true;
          });
      if (!scan.ok()) return scan;
      read = last;
      if (out.removed.empty()) return out;
      // The replica is complete after the first round (old_applied <= last).
      if (!aliased && replica != nullptr) {
        aliased = true;
        absl::StatusOr<std::map<pipeline::ThemeId, pipeline::ThemeId>> heirs =
            replayed ? pipeline::SuccessorThemes(old_model->clusterer(), replica->clusterer(),
                                                 model->clusterer(), documents)
                     : absl::FailedPreconditionError("a record gave other documents");
        if (heirs.ok()) {
          for (const auto& [id, into] : *heirs) model->AliasTheme(id, into);
        } else if (options_.log != nullptr) {
          options_.log->Warning("applier",
                                "theme ids of %s cannot be carried over the rebuild (%s): task "
                                "edits of its themes are left on no theme",
                                initiative, heirs.status().message());
        }
        replica.reset();
        documents = {};
      }
      pipeline::ThemeModel::Changes changes = model->TakeChanges();
      for (auto& t : changes.themes) themes[t.id()] = std::move(t);
      for (auto& t : changes.terms) terms[t.term()] = std::move(t);
      globals = std::move(changes.globals);
      // Every theme is new at the version the write gives the initiative: last + 1.
      const int64_t version = static_cast<int64_t>(last) + 1;
      std::vector<std::pair<std::string, std::string>> puts;
      puts.reserve(themes.size() + terms.size() + 1);
      std::vector<ThemeFeed::Entry> entries;
      for (auto& [id, t] : themes) {
        t.set_created_at(version);
        t.set_changed_at(version);
        puts.emplace_back(ThemeKey(id), t.SerializeAsString());
        entries.push_back({id, version, version, t.merged_into(), t.book().mentions()});
      }
      for (const auto& [id, t] : terms) puts.emplace_back(TermKey(id), t.SerializeAsString());
      puts.emplace_back(kGlobalsKey, globals.SerializeAsString());
      absl::StatusOr<storage::SequenceNumber> written =
          store_->ForgetRecords(initiative, out.removed, puts, last);
      if (absl::IsAborted(written.status())) continue;
      if (!written.ok()) return written.status();
      out.version = *written;
      {
        absl::MutexLock lock(&mu_);
        Initiative& state = initiatives_[initiative];
        if (state.model != nullptr) {
          out.themes_before = state.model->clusterer().LiveThemes().size();
        }
        state.model = std::move(model);
        state.applied = out.version;
        state.created_at.clear();
        for (const auto& [id, t] : themes) state.created_at[id] = version;
        out.themes_after = state.model->clusterer().LiveThemes().size();
        if (options_.metrics != nullptr) {
          options_.metrics->RecordApplied(initiative, out.version, out.themes_after);
        }
      }
      if (options_.feed != nullptr) options_.feed->Replace(initiative, version, entries);
      break;
    }
  }
  CompleteWaiters();
  return out;
}

void ThemeApplier::Loop() {
  // Failed batches in a row, per initiative; an initiative is here while it fails.
  std::map<std::string, uint64_t> failures;
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      // Wake for new records, stop, or the nearest waiter deadline.
      absl::Time wake = absl::InfiniteFuture();
      for (const Waiter& w : waiters_) wake = std::min(wake, w.deadline);
      mu_.AwaitWithDeadline(absl::Condition(
                                +[](ThemeApplier* self) ABSL_NO_THREAD_SAFETY_ANALYSIS {
                                  return self->pending_ || self->stopping_;
                                },
                                this),
                            wake);
      if (stopping_) return;
      pending_ = false;
    }
    bool more = true;
    while (more) {
      more = false;
      for (const std::string& initiative : store_->Initiatives()) {
        {
          absl::MutexLock lock(&mu_);
          if (stopping_) return;
          // Nothing new (an in-memory check): no read of the events log. Without it every
          // commit made the applier open an iterator per initiative.
          auto it = initiatives_.find(initiative);
          if (it != initiatives_.end() && it->second.applied >= store_->LastSequence(initiative)) {
            continue;
          }
        }
        absl::StatusOr<int> n = ApplyBatch(initiative);
        if (!n.ok()) {
          const uint64_t failed = ++failures[initiative];
          if (options_.log != nullptr && IsLoggedRepeat(failed)) {
            options_.log->Error("applier",
                                "applying records of %s failed (%d times in a row; retried every "
                                "200 ms): %s",
                                initiative, failed, n.status().message());
          }
          absl::SleepFor(absl::Milliseconds(200));
          more = true;
          continue;
        }
        if (auto failed = failures.find(initiative); failed != failures.end()) {
          if (options_.log != nullptr) {
            options_.log->Info("applier", "applying records of %s works again after %d failures",
                               initiative, failed->second);
          }
          failures.erase(failed);
        }
        if (*n > 0) more = true;
        CompleteWaiters();
      }
    }
    {
      absl::MutexLock lock(&mu_);
      if (replaying_ && options_.log != nullptr && stats_.replayed > 0) {
        options_.log->Info("applier", "replayed %d records after the watermarks in %.3fs",
                           stats_.replayed, absl::ToDoubleSeconds(absl::Now() - replay_start_));
      }
      replaying_ = false;
    }
    CompleteWaiters();
  }
}

void ThemeApplier::CompleteWaiters() {
  std::vector<std::pair<std::function<void(absl::StatusOr<storage::SequenceNumber>)>,
                        absl::StatusOr<storage::SequenceNumber>>>
      ready;
  {
    absl::MutexLock lock(&mu_);
    const absl::Time now = absl::Now();
    std::vector<Waiter> keep;
    for (Waiter& w : waiters_) {
      auto it = initiatives_.find(w.initiative);
      const storage::SequenceNumber applied = it == initiatives_.end() ? 0 : it->second.applied;
      if (applied >= w.sequence) {
        ready.emplace_back(std::move(w.done), applied);
      } else if (now >= w.deadline) {
        ready.emplace_back(std::move(w.done),
                           absl::DeadlineExceededError(absl::StrCat(w.initiative, ": applied ",
                                                                    applied, " of ", w.sequence)));
      } else {
        keep.push_back(std::move(w));
      }
    }
    waiters_ = std::move(keep);
  }
  for (auto& [done, result] : ready) done(result);
}

void ThemeApplier::WhenApplied(const std::string& initiative, storage::SequenceNumber sequence,
                               absl::Time deadline,
                               std::function<void(absl::StatusOr<storage::SequenceNumber>)> done) {
  if (sequence == 0) sequence = store_->LastSequence(initiative);
  absl::StatusOr<storage::SequenceNumber> now;  // Set when `done` can run at once.
  {
    absl::MutexLock lock(&mu_);
    auto it = initiatives_.find(initiative);
    const storage::SequenceNumber applied = it == initiatives_.end() ? 0 : it->second.applied;
    if (!started_ || stopping_) {
      now = absl::FailedPreconditionError(
          "theme state is not kept on this server (started with --apply_themes=false, or "
          "shutting down)");
    } else if (applied >= sequence) {
      now = applied;
    } else {
      waiters_.push_back(Waiter{initiative, sequence, deadline, std::move(done)});
      pending_ = true;  // Wake the loop so it recomputes its deadline.
      return;
    }
  }
  done(std::move(now));  // Outside the lock: `done` may call back into the applier.
}

absl::StatusOr<storage::SequenceNumber> ThemeApplier::WaitApplied(const std::string& initiative,
                                                                  storage::SequenceNumber sequence,
                                                                  absl::Time deadline) {
  absl::Mutex mu;
  bool done = false;
  absl::StatusOr<storage::SequenceNumber> result;
  WhenApplied(initiative, sequence, deadline, [&](absl::StatusOr<storage::SequenceNumber> r) {
    absl::MutexLock lock(&mu);
    result = std::move(r);
    done = true;
  });
  absl::MutexLock lock(&mu);
  mu.Await(absl::Condition(&done));
  return result;
}

}  // namespace fieldloop::services
