#include "pipeline/theme_evidence.h"

#include <algorithm>
#include <set>
#include <tuple>

#include "pipeline/content_inventory.h"

namespace fieldloop::pipeline {
std::map<ThemeId, std::vector<ProofPoint>> TieProofPoints(
    const PrioritizedThemes& themes, const std::vector<fieldloop::v1::WinLossNote>& notes,
    TextNormalizer& normalizer) {
  std::vector<const ThemeSummary*> all;
  for (const PrioritizedTheme* t : themes.All()) all.push_back(&t->theme);
  std::map<ThemeId, std::vector<ProofPoint>> tied;
  for (const auto& note : notes) {
    const bool won = note.outcome() == fieldloop::v1::OUTCOME_WON;
    for (const bool story : {false, true}) {
      for (const std::string& text : story ? note.customer_stories() : note.proof_points()) {
        const std::vector<std::string> stems = TextStems(text, normalizer);
        const ThemeSummary* best = nullptr;
        double best_coverage = 0;
        for (const ThemeSummary* theme : all) {
          const std::optional<double> covered = Covers(stems, theme->stems);
          if (!covered) continue;
          const double c = *covered;
          if (best == nullptr || c > best_coverage ||
              (c == best_coverage && theme->id < best->id)) {
            best = theme;
            best_coverage = c;
          }
        }
        if (best != nullptr) tied[best->id].push_back({note.id(), text, story, won});
      }
    }
  }
  for (auto& [theme, points] : tied) {
    std::stable_sort(points.begin(), points.end(), [](const ProofPoint& a, const ProofPoint& b) {
      return std::make_tuple(!a.won, a.record_id) < std::make_tuple(!b.won, b.record_id);
    });
    std::vector<ProofPoint> kept;
    std::set<std::string> seen;
    for (ProofPoint& p : points) {
      if (kept.size() == kMaxProofPointsPerTheme) break;
      if (seen.insert(p.text).second) kept.push_back(std::move(p));
    }
    points = std::move(kept);
  }
  return tied;
}

RampAdvice AdviseRamp(const RampRisk& risk, const PrioritizedThemes& themes,
                      const std::vector<RefreshTask>& tasks) {
  std::vector<std::tuple<int64_t, ThemeId, std::string>> heard;  // -mentions, id, label
  for (const PrioritizedTheme* each : themes.All()) {
    const PrioritizedTheme& t = *each;
    const int64_t n =
        CountOf(t.theme.by_region, risk.region) + CountOf(t.theme.by_segment, risk.segment);
    if (n > 0) heard.emplace_back(-n, t.theme.id, t.theme.label);
  }
  std::sort(heard.begin(), heard.end());
  RampAdvice advice;
  std::set<ThemeId> chosen;
  for (const auto& [n, id, label] : heard) {
    if (advice.modules.size() == kMaxModules) break;
    advice.modules.push_back(label);
    chosen.insert(id);
  }
  advice.content_fresh =
      !chosen.empty() && std::none_of(tasks.begin(), tasks.end(), [&](const RefreshTask& t) {
        return chosen.count(t.theme_id) > 0;
      });
  return advice;
}

}  // namespace fieldloop::pipeline
