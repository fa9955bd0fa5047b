#include "services/theme_feed.h"

#include <algorithm>
#include <limits>

namespace fieldloop::services {

void ThemeFeed::Publish(const std::string& initiative, int64_t version,
                        const std::vector<Entry>& changed) {
  absl::MutexLock lock(&mu_);
  Initiative& in = initiatives_[initiative];
  for (const Entry& e : changed) {
    auto [it, added] = in.themes.emplace(e.id, e);
    if (!added) {
      in.by_change.erase({it->second.changed_at, e.id});
      const int64_t created_at = it->second.created_at;
      it->second = e;
      // A change never moves the version a theme was created at.
      if (created_at != 0) it->second.created_at = created_at;
    }
    in.by_change.insert({it->second.changed_at, e.id});
  }
  in.version = std::max(in.version, version);
}

void ThemeFeed::Replace(const std::string& initiative, int64_t version,
                        const std::vector<Entry>& themes) {
  absl::MutexLock lock(&mu_);
  Initiative& in = initiatives_[initiative];
  std::map<int64_t, Entry> next;
  for (const Entry& e : themes) next[e.id] = e;
  for (const auto& [id, e] : in.themes) {
    if (next.count(id) > 0) continue;
    Entry gone = e;
    if (!gone.removed) {
      gone.removed = true;
      gone.changed_at = version;
    }
    next[id] = gone;
  }
  in.themes = std::move(next);
  in.by_change.clear();
  for (const auto& [id, e] : in.themes) in.by_change.insert({e.changed_at, id});
  in.version = std::max(in.version, version);
}

int64_t ThemeFeed::Version(const std::string& initiative) const {
  absl::MutexLock lock(&mu_);
  auto it = initiatives_.find(initiative);
  return it == initiatives_.end() ? 0 : it->second.version;
}

ThemeFeed::Changes ThemeFeed::ChangedAfter(const std::string& initiative, int64_t after,
                                           size_t limit, absl::Time deadline) {
  absl::MutexLock lock(&mu_);
  auto has_news = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (closed_) return true;
    auto it = initiatives_.find(initiative);
    return it != initiatives_.end() && it->second.version > after;
  };
  mu_.AwaitWithDeadline(absl::Condition(&has_news), deadline);
  Changes out;
  out.seen = after;
  out.closed = closed_;
  auto it = initiatives_.find(initiative);
  if (it == initiatives_.end()) return out;
  const Initiative& in = it->second;
  // Whole versions only, so `seen` can be a version: stop at the first version boundary
  // after `limit` entries.
  int64_t last = after;
  auto from = in.by_change.upper_bound({after, std::numeric_limits<int64_t>::max()});
  for (; from != in.by_change.end(); ++from) {
    if (out.entries.size() >= limit && from->first != last) break;
    out.entries.push_back(in.themes.at(from->second));
    last = from->first;
  }
  out.seen = from == in.by_change.end() ? std::max(after, in.version) : last;
  return out;
}

ThemeFeed::Changes ThemeFeed::All(const std::string& initiative) const {
  absl::MutexLock lock(&mu_);
  Changes out;
  auto it = initiatives_.find(initiative);
  if (it == initiatives_.end()) return out;
  for (const auto& [id, e] : it->second.themes) out.entries.push_back(e);
  out.seen = it->second.version;
  return out;
}

void ThemeFeed::Close() {
  absl::MutexLock lock(&mu_);
  closed_ = true;
}

}  // namespace fieldloop::services
