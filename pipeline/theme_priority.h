// Theme priority: which themes to fix first, with a score that explains itself, regional
// themes set apart, and themes that recur quarter over quarter flagged. Pure: as_of is a
// parameter. Rules and weights in docs/analysis.md.
#ifndef FIELDLOOP_PIPELINE_THEME_PRIORITY_H_
#define FIELDLOOP_PIPELINE_THEME_PRIORITY_H_

#include <string>
#include <vector>

#include "absl/time/civil_time.h"
#include "pipeline/theme_book.h"

namespace fieldloop::pipeline {

struct PriorityOptions {
  // Weights of the score's parts (each part is documented in docs/analysis.md).
  double mentions_weight = 1.0;  // x ln(1 + mentions)
  double value_weight = 0.5;     // x ln(1 + lost-deal value at stake / 10,000)
  double breadth_weight = 1.0;   // x share of all regions and segments the theme reaches
  double recency_weight = 1.0;   // x 2^(-days since last seen / 30)
  double trend_weight = 0.5;     // x growth this quarter vs last, clamped to [-1, 2]
  // A theme is regional when at least this share of its mentions come from one region or
  // one segment. Default: 0.7.
  double regional_share = 0.7;
  // Themes with fewer mentions are never called regional (too few to tell). Default: 5.
  int64_t regional_min_mentions = 5;
  // Themes with fewer mentions are emerging: too thin to act on yet. They are listed on
  // the board but not ranked and get no task. A theme someone tagged by hand is always
  // ranked: a person already judged it worth tracking. Default: 3.
  int64_t min_mentions = 3;
  // A quarter counts for recurrence when the theme has at least this many mentions in it.
  // Default: 2.
  int64_t recurring_min_per_quarter = 2;
};

struct PrioritizedTheme {
  ThemeSummary theme;
  double score = 0;
  // The parts of the score, for the board's "why" column.
  double mentions_part = 0, value_part = 0, breadth_part = 0, recency_part = 0, trend_part = 0;
  int64_t this_quarter = 0, last_quarter = 0;  // Mentions in as_of's quarter and the one before.
  bool regional = false;
  std::string concentrated_in;  // "region EMEA" or "segment SMB" when regional.
  // Consecutive quarters (oldest first) with enough mentions, when there are two or more;
  // such themes go to product-gap / ICP review.
  std::vector<std::string> recurring_quarters;
  std::string why;  // One readable line, e.g. "31 mentions, +40% this quarter, ...".
};

struct PrioritizedThemes {
  std::vector<PrioritizedTheme> global;    // Best first (score, then theme id).
  std::vector<PrioritizedTheme> regional;  // Best first, ranked on their own.
  // Below PriorityOptions::min_mentions: best first, not in global, regional or All().
  std::vector<PrioritizedTheme> emerging;
  int64_t min_mentions = 0;  // PriorityOptions::min_mentions used.

  // Every ranked theme: the global ones, then the regional ones (not the emerging ones).
  std::vector<const PrioritizedTheme*> All() const {
    std::vector<const PrioritizedTheme*> all;
    all.reserve(global.size() + regional.size());
    for (const auto& t : global) all.push_back(&t);
    for (const auto& t : regional) all.push_back(&t);
    return all;
  }
};

// Scores and splits `themes` as of `as_of`. `all_regions`/`all_segments` count the
// distinct regions and segments seen in the initiative (breadth is relative to them).
PrioritizedThemes Prioritize(const std::vector<ThemeSummary>& themes, absl::CivilDay as_of,
                             int all_regions, int all_segments,
                             const PriorityOptions& options = {});

}  // namespace fieldloop::pipeline

#endif  // FIELDLOOP_PIPELINE_THEME_PRIORITY_H_
