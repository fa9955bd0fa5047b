#include "pipeline/theme_succession.h"

#include "absl/strings/str_cat.h"

namespace fieldloop::pipeline {

absl::StatusOr<std::map<ThemeId, ThemeId>> SuccessorThemes(
    const ThemeClusterer& old, const ThemeClusterer& replica, const ThemeClusterer& rebuilt,
    const std::vector<DocumentThemes>& documents) {
  const ThemeId ids = old.num_ids();
  if (replica.num_ids() > ids) {
    return absl::FailedPreconditionError(
        absl::StrCat("the replay gave ", replica.num_ids(), " theme ids, the old model has ", ids));
  }
  // Ids the old model retired itself come first; its own themes follow in replay order.
  const ThemeId shift = ids - replica.num_ids();
  for (ThemeId z : old.LiveThemes()) {
    if (z < shift) {
      return absl::FailedPreconditionError(
          absl::StrCat("old theme ", z, " is live but below the replayed ids"));
    }
  }
  for (ThemeId z = 0; z < replica.num_ids(); ++z) {
    const ThemeId live = replica.Resolve(z);
    const ThemeId expected = live < 0 ? -1 : live + shift;
    if (old.Resolve(z + shift) != expected ||
        old.DocumentsIn(z + shift) != replica.DocumentsIn(z) ||
        old.TagOf(z + shift) != replica.TagOf(z)) {
      return absl::FailedPreconditionError(
          absl::StrCat("old theme ", z + shift, " differs from its replay"));
    }
  }
  // Documents left per old live theme and rebuilt theme; ordered maps, so ties go to the
  // lowest rebuilt id whatever the order of `documents`.
  std::map<ThemeId, std::map<ThemeId, int64_t>> left;
  for (const auto& [before, after] : documents) {
    const ThemeId from = replica.Resolve(before);
    const ThemeId into = rebuilt.Resolve(after);
    if (from < 0 || into < 0) continue;
    ++left[from + shift][into];
  }
  std::map<ThemeId, ThemeId> heir;  // Old live theme -> rebuilt theme.
  for (const auto& [from, counts] : left) {
    ThemeId best = -1;
    int64_t most = 0;
    for (const auto& [into, n] : counts) {
      if (n > most) {
        most = n;
        best = into;
      }
    }
    heir[from] = best;
  }
  std::map<ThemeId, ThemeId> out;
  for (ThemeId z = 0; z < ids; ++z) {
    auto it = heir.find(old.Resolve(z));
    if (it != heir.end()) out[z] = it->second;
  }
  return out;
}

}  // namespace fieldloop::pipeline
