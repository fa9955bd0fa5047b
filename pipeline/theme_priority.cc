#include "pipeline/theme_priority.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

namespace fieldloop::pipeline {
namespace {

// The largest entry of `counts` (ties: alphabetically first) and its count.
std::pair<std::string, int64_t> Top(const std::map<std::string, int64_t>& counts) {
  std::pair<std::string, int64_t> best{"", 0};
  for (const auto& [k, v] : counts) {
    if (v > best.second) best = {k, v};
  }
  return best;
}

std::string Money(double amount) {
  if (amount >= 1e6) return absl::StrFormat("%.1fM", amount / 1e6);
  if (amount >= 1e3) return absl::StrFormat("%.0fk", amount / 1e3);
  return absl::StrFormat("%.0f", amount);
}

}  // namespace

PrioritizedThemes Prioritize(const std::vector<ThemeSummary>& themes, absl::CivilDay as_of,
                             int all_regions, int all_segments, const PriorityOptions& o) {
  PrioritizedThemes out;
  out.min_mentions = o.min_mentions;
  const std::string current = QuarterOfDay(as_of);
  const std::string previous = PreviousQuarter(current);
  const absl::CivilMonth month(as_of);
  const absl::CivilDay quarter_start(
      absl::CivilMonth(month.year(), (month.month() - 1) / 3 * 3 + 1));
  const absl::CivilDay quarter_end(absl::CivilMonth(quarter_start) + 3);
  // Share of the current quarter that has passed, as_of included: (0, 1].
  const double elapsed = static_cast<double>(as_of - quarter_start + 1) /
                         static_cast<double>(quarter_end - quarter_start);
  const int64_t as_of_seconds = absl::ToUnixSeconds(absl::FromCivil(as_of, absl::UTCTimeZone()));
  for (const ThemeSummary& t : themes) {
    PrioritizedTheme p;
    p.theme = t;
    p.this_quarter = CountOf(t.by_quarter, current);
    p.last_quarter = CountOf(t.by_quarter, previous);
    // The current quarter is only partly over: compare its pace with the last quarter.
    const double pace = static_cast<double>(p.this_quarter) / elapsed;
    const double trend = std::clamp((pace - static_cast<double>(p.last_quarter)) /
                                        static_cast<double>(std::max<int64_t>(p.last_quarter, 1)),
                                    -1.0, 2.0);
    const double days_since = std::max<double>(0, (as_of_seconds - t.last_seen) / 86400.0);
    const double breadth =
        (static_cast<double>(t.by_region.size()) + static_cast<double>(t.by_segment.size())) /
        std::max(1, all_regions + all_segments);
    p.mentions_part = o.mentions_weight * std::log1p(static_cast<double>(t.mentions));
    p.value_part = o.value_weight * std::log1p(t.amount_at_stake / 10000.0);
    p.breadth_part = o.breadth_weight * breadth;
    p.recency_part = o.recency_weight * std::exp2(-days_since / 30.0);
    p.trend_part = o.trend_weight * trend;
    p.score = p.mentions_part + p.value_part + p.breadth_part + p.recency_part + p.trend_part;

    if (t.mentions >= o.regional_min_mentions) {
      const auto [region, in_region] = Top(t.by_region);
      const auto [segment, in_segment] = Top(t.by_segment);
      const double region_share = static_cast<double>(in_region) / t.mentions;
      const double segment_share = static_cast<double>(in_segment) / t.mentions;
      if (region_share >= o.regional_share || segment_share >= o.regional_share) {
        p.regional = true;
        p.concentrated_in = region_share >= segment_share ? absl::StrCat("region ", region)
                                                          : absl::StrCat("segment ", segment);
      }
    }

    // Longest run of consecutive quarters with enough mentions.
    std::vector<std::string> run, best;
    for (const auto& [quarter, n] : t.by_quarter) {  // Sorted: "2026-Q1" < "2026-Q2".
      if (n < o.recurring_min_per_quarter) {
        run.clear();
        continue;
      }
      if (!run.empty() && PreviousQuarter(quarter) != run.back()) run.clear();
      run.push_back(quarter);
      if (run.size() > best.size()) best = run;
    }
    if (best.size() >= 2) p.recurring_quarters = best;

    std::vector<std::string> why = {
        absl::StrCat(t.mentions, t.mentions == 1 ? " mention" : " mentions")};
    if (p.last_quarter > 0 || p.this_quarter > 0) {
      why.push_back(absl::StrFormat("%d this quarter vs %d last", p.this_quarter, p.last_quarter));
    }
    if (t.lost_deals > 0) {
      why.push_back(absl::StrCat(t.lost_deals, " lost deal", t.lost_deals == 1 ? "" : "s", " (",
                                 Money(t.amount_at_stake), " at stake)"));
    }
    why.push_back(absl::StrCat(t.by_region.size(), " region", t.by_region.size() == 1 ? "" : "s",
                               ", ", t.by_segment.size(), " segment",
                               t.by_segment.size() == 1 ? "" : "s"));
    why.push_back(absl::StrFormat("last seen %.0f days ago", days_since));
    p.why = absl::StrJoin(why, ", ");
    (t.mentions < o.min_mentions && !t.tagged ? out.emerging
     : p.regional                             ? out.regional
                                              : out.global)
        .push_back(std::move(p));
  }
  auto order = [](const PrioritizedTheme& a, const PrioritizedTheme& b) {
    return a.score != b.score ? a.score > b.score : a.theme.id < b.theme.id;
  };
  std::sort(out.global.begin(), out.global.end(), order);
  std::sort(out.regional.begin(), out.regional.end(), order);
  std::sort(out.emerging.begin(), out.emerging.end(), order);
  return out;
}

}  // namespace fieldloop::pipeline
