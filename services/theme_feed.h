// ThemeFeed: the latest change of each theme of each initiative, versioned by the
// initiative's applied sequence, for Themes.WatchThemes. The theme applier publishes after
// each durable batch and never waits on readers; a reader asks what changed after the
// version it has seen and may wait until something does. Changes coalesce: a theme changed
// by three batches a reader has not read yet is one entry, at its latest version. Memory:
// one entry per theme ever created (merged ones included). Thread-safe.
#ifndef FIELDLOOP_SERVICES_THEME_FEED_H_
#define FIELDLOOP_SERVICES_THEME_FEED_H_

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace fieldloop::services {

class ThemeFeed {
 public:
  struct Entry {
    int64_t id = -1;
    int64_t created_at = 0;    // Version that created it (0: before versions were kept).
    int64_t changed_at = 0;    // Version of its latest change.
    int64_t merged_into = -1;  // -1 while live.
    int64_t mentions = 0;
    // The theme no longer exists: a Replace (Admin.Forget) rebuilt the initiative's themes
    // without it, at `changed_at`.
    bool removed = false;
  };

  // Records the themes of `initiative` that a batch applied up to `version` changed (or,
  // at load, the stored themes with their own versions). The initiative's version becomes
  // max(version, its version). Wakes waiting readers.
  void Publish(const std::string& initiative, int64_t version, const std::vector<Entry>& changed)
      ABSL_LOCKS_EXCLUDED(mu_);

  // Replaces every theme of `initiative` with `themes`, at `version` (which must be above
  // the initiative's version; it becomes it): themes not in `themes` and not removed before
  // are kept as removed entries changed at `version`, so watchers hear of them. Used after
  // the theme state was rebuilt (Admin.Forget). Wakes waiting readers.
  void Replace(const std::string& initiative, int64_t version, const std::vector<Entry>& themes)
      ABSL_LOCKS_EXCLUDED(mu_);

  // The initiative's latest published version; 0 when none.
  int64_t Version(const std::string& initiative) const ABSL_LOCKS_EXCLUDED(mu_);

  // What a reader gets: themes changed after the version asked for (by version, then id;
  // whole versions, stopping at the first version boundary after `limit` entries), and
  // the version it has now seen everything up to.
  struct Changes {
    std::vector<Entry> entries;
    int64_t seen = 0;
    bool closed = false;  // The feed is closed: no more changes will come.
  };
  // Themes of `initiative` changed after `after`. When none, waits until one is published,
  // `deadline` passes or the feed closes, then answers (possibly empty).
  Changes ChangedAfter(const std::string& initiative, int64_t after, size_t limit,
                       absl::Time deadline) ABSL_LOCKS_EXCLUDED(mu_);

  // Every theme of `initiative` (live, merged and removed), by id, and the version read at.
  Changes All(const std::string& initiative) const ABSL_LOCKS_EXCLUDED(mu_);

  // Wakes every waiting reader and makes later waits return at once. Idempotent.
  void Close() ABSL_LOCKS_EXCLUDED(mu_);

 private:
  struct Initiative {
    int64_t version = 0;
    std::map<int64_t, Entry> themes;                  // By id.
    std::set<std::pair<int64_t, int64_t>> by_change;  // (changed_at, id).
  };

  mutable absl::Mutex mu_;
  std::map<std::string, Initiative> initiatives_ ABSL_GUARDED_BY(mu_);
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace fieldloop::services

#endif  // FIELDLOOP_SERVICES_THEME_FEED_H_
