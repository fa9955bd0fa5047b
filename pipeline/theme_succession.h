// Theme succession: which theme of a rebuilt model each theme id of the model it replaces
// lives on as, so that what is keyed by an old theme id (task records, docs/analysis.md
// "People's edits") follows its theme through a rebuild (Admin.Forget,
// ThemeApplier::RemoveRecords). Pure and deterministic.
//
// The rebuild replays the records left into a model whose ids start above every id of the
// old model (ThemeModel::RetireThemes), so an old id can only name a new theme through an
// alias. To know which records each old theme held (theme state keeps only a few quotes
// per theme), a second model, the replica, replays every record the old model applied,
// forgotten ones included, in the same order: the same records give the same themes
// (pipeline/theme_model.h), so the replica is the old model with its ids shifted down by
// the number of ids the old model had retired itself (0 unless it was a rebuild too).
// Documents of records left are applied to both models, giving one (replica theme, rebuilt
// theme) pair each.
//
// Rules:
// - An old live theme lives on as the rebuilt theme that holds most of its documents left
//   (ties: the lowest id); an old id merged or aliased into it follows it.
// - An old theme none of whose documents is left lives on as nothing: its id resolves to
//   -1 in the rebuilt model.
// - The replica must be the old model (same ids once shifted, same merges, same document
//   counts, same tags). When it is not (the model options changed since the old model was
//   built, or its state came from elsewhere), nothing is mapped: no guess.
#ifndef FIELDLOOP_PIPELINE_THEME_SUCCESSION_H_
#define FIELDLOOP_PIPELINE_THEME_SUCCESSION_H_

#include <map>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "pipeline/theme_clusterer.h"

namespace fieldloop::pipeline {

// One document of a record left: the theme it joined in the replica and in the rebuilt
// model, as ThemeModel::Apply returned them (resolved here, after every merge).
using DocumentThemes = std::pair<ThemeId, ThemeId>;

// Returns, for each id of `old` (0 .. old.num_ids() - 1) that lives on, the id of the
// rebuilt theme it resolves to now (see the rules above); ids that live on as nothing are
// absent. Returns FailedPrecondition, naming the first difference, when `replica` is not
// `old` with its ids shifted.
absl::StatusOr<std::map<ThemeId, ThemeId>> SuccessorThemes(
    const ThemeClusterer& old, const ThemeClusterer& replica, const ThemeClusterer& rebuilt,
    const std::vector<DocumentThemes>& documents);

}  // namespace fieldloop::pipeline

#endif  // FIELDLOOP_PIPELINE_THEME_SUCCESSION_H_
