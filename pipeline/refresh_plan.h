// Content refresh plan: the tasks (refresh a stale asset tied to a live theme, create
// content for a theme no asset covers) and their CSV form. Pure: as_of is a parameter;
// same inputs give byte-identical CSV. Rules in docs/analysis.md.
#ifndef FIELDLOOP_PIPELINE_REFRESH_PLAN_H_
#define FIELDLOOP_PIPELINE_REFRESH_PLAN_H_

#include <map>
#include <string>
#include <vector>

#include "absl/time/civil_time.h"
#include "pipeline/content_inventory.h"
#include "pipeline/theme_priority.h"
#include "proto/fieldloop/v1/records.pb.h"

namespace fieldloop::pipeline {

// The CSV header, exactly as other tools read it.
inline constexpr char kRefreshPlanHeader[] =
    "task_key,theme_id,theme,asset_id,asset,action,format,owner,due,priority,status,"
    "evidence_count,reason";

struct RefreshTask {
  std::string task_key;  // "<theme_id>/<asset_id>", or "<theme_id>/new" for a create task.
  ThemeId theme_id = -1;
  std::string theme;            // Label.
  std::string asset_id;         // Empty for a create task.
  std::string asset;            // Asset title; for a create task, the suggested title.
  std::string action;           // "refresh" or "create".
  std::string format;           // battlecard, objection-handling snippet, short deck, ...
  std::string owner;            // Inventory owner for refresh; "unassigned" for create.
  std::string due;              // YYYY-MM-DD.
  std::string priority;         // P1..P3.
  std::string status = "open";  // open, in_progress, done, wont_do.
  int64_t evidence_count = 0;   // Mentions of the theme.
  std::string reason;
};

struct PlanOptions {
  FreshnessWindows windows;
  // How many of the globally ranked themes are P1 and P2; the rest are P3. Regional
  // themes are at most P2 (the best regional_p2_themes of them), else P3.
  int p1_themes = 3;
  int p2_themes = 5;
  int regional_p2_themes = 2;
  // Days from as_of to the default due date per priority.
  int p1_days = 14, p2_days = 30, p3_days = 60;
};

// An asset that covers a theme (Covers), with its freshness on as_of.
struct LinkedAsset {
  std::string asset_id, title, owner, last_updated;
  fieldloop::v1::AssetType type = fieldloop::v1::ASSET_TYPE_UNSPECIFIED;
  AssetFreshness freshness;
};

// The assets covering each ranked theme (global and regional; a theme no asset covers is
// absent), by asset id. Assets whose last_updated does not parse are skipped.
std::map<ThemeId, std::vector<LinkedAsset>> LinkAssets(
    const PrioritizedThemes& themes, const std::vector<fieldloop::v1::ContentAsset>& assets,
    absl::CivilDay as_of, TextNormalizer& normalizer, const FreshnessWindows& windows);

// The format suggested for new content on `theme` (docs/analysis.md).
std::string SuggestedFormat(const PrioritizedTheme& theme);

// The tasks for `themes` given the inventory, one per theme + asset, sorted by priority,
// then theme id, then asset id. Assets whose last_updated does not parse are skipped.
std::vector<RefreshTask> PlanTasks(const PrioritizedThemes& themes,
                                   const std::vector<fieldloop::v1::ContentAsset>& assets,
                                   absl::CivilDay as_of, TextNormalizer& normalizer,
                                   const PlanOptions& options = {});
// The same, from the assets LinkAssets found (options.windows is not used again).
std::vector<RefreshTask> PlanTasks(const PrioritizedThemes& themes,
                                   const std::map<ThemeId, std::vector<LinkedAsset>>& links,
                                   absl::CivilDay as_of, const PlanOptions& options = {});

// RFC 4180 CSV (CRLF line ends, fields quoted when they hold a comma, quote, CR or LF)
// with kRefreshPlanHeader. A cell starting with = + - @, tab or CR gets a single quote in
// front, so a spreadsheet does not run it as a formula (ParsePlanCsv removes it again).
std::string RenderRefreshPlanCsv(const std::vector<RefreshTask>& tasks);

}  // namespace fieldloop::pipeline

#endif  // FIELDLOOP_PIPELINE_REFRESH_PLAN_H_
