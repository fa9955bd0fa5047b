// Theme evidence: what the board adds to each theme beyond the clusterer's statistics.
// Pure and deterministic (ordered outputs). Rules in docs/analysis.md.
// - Proof points and customer stories of win/loss notes, tied to the theme they speak to:
//   the text's stems must cover the theme as an asset would (content_inventory's Covers
//   rule: at least kMinSharedTerms of the theme's top terms and kCoverageThreshold of their
//   weight); among several such themes, the best covered one (then the lower id).
// - For a lagging onboarding cohort, the modules to refine: the themes heard most in the
//   cohort's region and segment, and whether their content is already fresh (then coaching
//   or process, not content, may be the limiter).
#ifndef FIELDLOOP_PIPELINE_THEME_EVIDENCE_H_
#define FIELDLOOP_PIPELINE_THEME_EVIDENCE_H_

#include <map>
#include <string>
#include <vector>

#include "pipeline/ramp_risks.h"
#include "pipeline/refresh_plan.h"
#include "pipeline/text_normalizer.h"
#include "pipeline/theme_priority.h"
#include "proto/fieldloop/v1/records.pb.h"

namespace fieldloop::pipeline {

struct ProofPoint {
  std::string record_id;  // The win/loss note.
  std::string text;
  bool customer_story = false;  // Else a proof point.
  bool won = false;             // From a won deal.
};

// Most proof points and stories kept per theme.
inline constexpr size_t kMaxProofPointsPerTheme = 3;

// Ties the proof points and customer stories of `notes` to `themes` (rule above). Per
// theme: won deals first, then by note id, at most kMaxProofPointsPerTheme, one copy of a
// text.
std::map<ThemeId, std::vector<ProofPoint>> TieProofPoints(
    const PrioritizedThemes& themes, const std::vector<fieldloop::v1::WinLossNote>& notes,
    TextNormalizer& normalizer);

struct RampAdvice {
  // Labels of up to kMaxModules themes, most mentioned in the cohort's region plus segment
  // first (then theme id); only themes heard there.
  std::vector<std::string> modules;
  // True when every suggested module's theme has no refresh or create task: its content
  // exists and is fresh, so coaching or process may be the limiter rather than content.
  bool content_fresh = false;
};

inline constexpr size_t kMaxModules = 3;

RampAdvice AdviseRamp(const RampRisk& risk, const PrioritizedThemes& themes,
                      const std::vector<RefreshTask>& tasks);

}  // namespace fieldloop::pipeline

#endif  // FIELDLOOP_PIPELINE_THEME_EVIDENCE_H_
