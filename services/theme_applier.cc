#include "services/theme_applier.h"

#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
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
  return &initiatives_.emplace(initiative, std::move(loaded)).first->second;
}

absl::Status ThemeApplier::Start() {
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

pipeline::ThemeId ThemeApplier::ResolveTheme(const std::string& initiative,
                                             pipeline::ThemeId theme) const {
  absl::MutexLock lock(&mu_);
  auto it = initiatives_.find(initiative);
  if (it == initiatives_.end()) return theme;
  return it->second.model->clusterer().Resolve(theme);
}

absl::StatusOr<int> ThemeApplier::ApplyBatch(const std::string& initiative) {
  // The model is only touched by the applier thread, so it is used without holding mu_
  // while records are read and applied; mu_ guards the map and the watermark.
  Initiative* state;
  {
    absl::MutexLock lock(&mu_);
    absl::StatusOr<Initiative*> loaded = Load(initiative);
    if (!loaded.ok()) return loaded.status();
    state = *loaded;
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
  if (!written.ok()) return written;
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
