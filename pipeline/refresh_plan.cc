#include "pipeline/refresh_plan.h"

#include <algorithm>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "pipeline/csv_reader.h"

namespace fieldloop::pipeline {
namespace {

std::string CsvField(const std::string& cell) {
  // A spreadsheet reads a cell starting with = + - @ (or tab, CR) as a formula: such a cell
  // gets a single quote in front, the guard spreadsheets honour (plan_import removes it).
  const std::string s =
      !cell.empty() && kFormulaLeaders.find(cell[0]) != absl::string_view::npos ? "'" + cell : cell;
  if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) {
    if (c == '"')
      out += "\"\"";
    else
      out.push_back(c);
  }
  return out + "\"";
}

int PriorityRank(const std::string& p) { return p == "P1" ? 1 : p == "P2" ? 2 : 3; }

// A refreshed asset keeps its own format.
std::string SuggestedFormatForAsset(fieldloop::v1::AssetType type) {
  switch (type) {
    case fieldloop::v1::ASSET_TYPE_DECK:
      return "short deck";
    case fieldloop::v1::ASSET_TYPE_BATTLECARD:
      return "battlecard";
    case fieldloop::v1::ASSET_TYPE_ONE_PAGER:
      return "one-pager";
    case fieldloop::v1::ASSET_TYPE_PLAY:
      return "play";
    case fieldloop::v1::ASSET_TYPE_SNIPPET:
      return "objection-handling snippet";
    case fieldloop::v1::ASSET_TYPE_VIDEO:
      return "video";
    case fieldloop::v1::ASSET_TYPE_MODULE:
      return "onboarding module";
    default:
      return "other";
  }
}

}  // namespace

std::string SuggestedFormat(const PrioritizedTheme& p) {
  const ThemeSummary& t = p.theme;
  int64_t competitor_mentions = 0;
  for (const auto& [name, n] : t.competitors) competitor_mentions += n;
  if (competitor_mentions > 0) return "battlecard";
  if (t.objections * 2 >= t.mentions && t.objections > 0) return "objection-handling snippet";
  if (t.won_deals > 0 && t.won_deals >= t.lost_deals) return "customer-story one-pager";
  if (CountOf(t.by_source, "enablement_session") * 2 >= t.mentions) return "onboarding module";
  return "short deck";
}

std::map<ThemeId, std::vector<LinkedAsset>> LinkAssets(
    const PrioritizedThemes& themes, const std::vector<fieldloop::v1::ContentAsset>& assets,
    absl::CivilDay as_of, TextNormalizer& normalizer, const FreshnessWindows& windows) {
  // Assets sorted by id, with their stems and freshness.
  std::vector<const fieldloop::v1::ContentAsset*> sorted;
  for (const auto& a : assets) sorted.push_back(&a);
  std::sort(sorted.begin(), sorted.end(),
            [](const auto* a, const auto* b) { return a->asset_id() < b->asset_id(); });
  std::vector<std::pair<LinkedAsset, std::vector<std::string>>> infos;
  for (const auto* a : sorted) {
    absl::StatusOr<AssetFreshness> f = Freshness(*a, as_of, windows);
    if (!f.ok()) continue;
    infos.push_back({{a->asset_id(), a->title(), a->owner(), a->last_updated(), a->type(), *f},
                     AssetStems(*a, normalizer)});
  }
  std::map<ThemeId, std::vector<LinkedAsset>> out;
  for (const PrioritizedTheme* p : themes.All()) {
    for (const auto& [asset, stems] : infos) {
      if (Covers(stems, p->theme.stems)) out[p->theme.id].push_back(asset);
    }
  }
  return out;
}

std::vector<RefreshTask> PlanTasks(const PrioritizedThemes& themes,
                                   const std::vector<fieldloop::v1::ContentAsset>& assets,
                                   absl::CivilDay as_of, TextNormalizer& normalizer,
                                   const PlanOptions& options) {
  return PlanTasks(themes, LinkAssets(themes, assets, as_of, normalizer, options.windows), as_of,
                   options);
}

std::vector<RefreshTask> PlanTasks(const PrioritizedThemes& themes,
                                   const std::map<ThemeId, std::vector<LinkedAsset>>& links,
                                   absl::CivilDay as_of, const PlanOptions& o) {
  std::vector<RefreshTask> tasks;
  auto plan = [&](const PrioritizedTheme& p, const std::string& priority) {
    const int days = priority == "P1" ? o.p1_days : priority == "P2" ? o.p2_days : o.p3_days;
    const std::string due = absl::FormatCivilTime(as_of + days);
    const auto linked = links.find(p.theme.id);
    if (linked == links.end()) {
      RefreshTask t;
      t.task_key = absl::StrCat(p.theme.id, "/new");
      t.theme_id = p.theme.id;
      t.theme = p.theme.label;
      t.action = "create";
      t.format = SuggestedFormat(p);
      t.asset = absl::StrCat(p.theme.label, " (", t.format, ")");
      t.owner = "unassigned";
      t.due = due;
      t.priority = priority;
      t.evidence_count = p.theme.mentions;
      t.reason = absl::StrCat("no asset covers this theme; ", p.why);
      tasks.push_back(std::move(t));
      return;
    }
    for (const LinkedAsset& asset : linked->second) {
      if (!asset.freshness.stale) continue;
      RefreshTask t;
      t.task_key = absl::StrCat(p.theme.id, "/", asset.asset_id);
      t.theme_id = p.theme.id;
      t.theme = p.theme.label;
      t.asset_id = asset.asset_id;
      t.asset = asset.title;
      t.action = "refresh";
      t.format = SuggestedFormatForAsset(asset.type);
      t.owner = asset.owner;
      t.due = due;
      t.priority = priority;
      t.evidence_count = p.theme.mentions;
      t.reason =
          absl::StrFormat("last updated %s, %d days ago (window %d); theme: %s", asset.last_updated,
                          asset.freshness.age_days, asset.freshness.window_days, p.why);
      tasks.push_back(std::move(t));
    }
  };
  for (size_t i = 0; i < themes.global.size(); ++i) {
    const int rank = static_cast<int>(i);
    plan(themes.global[i], rank < o.p1_themes                 ? "P1"
                           : rank < o.p1_themes + o.p2_themes ? "P2"
                                                              : "P3");
  }
  for (size_t i = 0; i < themes.regional.size(); ++i) {
    plan(themes.regional[i], static_cast<int>(i) < o.regional_p2_themes ? "P2" : "P3");
  }
  std::sort(tasks.begin(), tasks.end(), [](const RefreshTask& a, const RefreshTask& b) {
    return std::make_tuple(PriorityRank(a.priority), a.theme_id, a.asset_id) <
           std::make_tuple(PriorityRank(b.priority), b.theme_id, b.asset_id);
  });
  return tasks;
}

std::string RenderRefreshPlanCsv(const std::vector<RefreshTask>& tasks) {
  std::string out = absl::StrCat(kRefreshPlanHeader, "\r\n");
  for (const RefreshTask& t : tasks) {
    const std::vector<std::string> fields = {t.task_key, absl::StrCat(t.theme_id),
                                             t.theme,    t.asset_id,
                                             t.asset,    t.action,
                                             t.format,   t.owner,
                                             t.due,      t.priority,
                                             t.status,   absl::StrCat(t.evidence_count),
                                             t.reason};
    std::vector<std::string> quoted;
    for (const std::string& f : fields) quoted.push_back(CsvField(f));
    absl::StrAppend(&out, absl::StrJoin(quoted, ","), "\r\n");
  }
  return out;
}

}  // namespace fieldloop::pipeline
