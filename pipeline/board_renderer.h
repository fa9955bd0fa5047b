// Board renderer: the enablement action board as GitHub-flavored markdown, from the
// analyzer's results. Pure: the same inputs give byte-identical output. Layout in
// docs/analysis.md.
#ifndef FIELDLOOP_PIPELINE_BOARD_RENDERER_H_
#define FIELDLOOP_PIPELINE_BOARD_RENDERER_H_

#include <map>
#include <string>
#include <vector>

#include "absl/time/civil_time.h"
#include "pipeline/ramp_risks.h"
#include "pipeline/refresh_plan.h"
#include "pipeline/theme_evidence.h"
#include "pipeline/theme_priority.h"

namespace fieldloop::pipeline {

struct BoardInputs {
  std::string initiative;
  absl::CivilDay as_of;
  // Records seen per input of the seed (0 = missing).
  int64_t feedback_events = 0;
  int64_t call_transcripts = 0;
  int64_t win_loss_notes = 0;
  int64_t content_assets = 0;
  int64_t onboarding_rows = 0;
  // Whether an older content_refresh.csv exists (said on a stub board, which leaves it).
  bool previous_plan_exists = false;
  PrioritizedThemes themes;
  std::vector<RefreshTask> tasks;
  std::vector<RampRisk> ramp_risks;
  // Proof points and customer stories by theme (TieProofPoints).
  std::map<ThemeId, std::vector<ProofPoint>> proof_points;
  // Assets covering each ranked theme, fresh or stale (LinkAssets).
  std::map<ThemeId, std::vector<LinkedAsset>> linked_assets;
};

// Most emerging signals listed by name on the board, best first; the rest are counted in
// one line ("and N more"). Bounds the board when many one-off themes arrive (for example a
// producer sending unrelated text); the Themes API lists every one.
inline constexpr size_t kMaxEmergingListed = 30;

// The board. With no feedback events and no transcripts it is a stub that names the missing
// inputs and says that no refresh plan was generated.
std::string RenderBoard(const BoardInputs& in);

// `tasks` as the board's fixes table lists them: by priority, then by their theme's score
// (best first), ties kept in plan order. The CSV keeps the plan's order (theme id).
std::vector<RefreshTask> InBoardOrder(const PrioritizedThemes& themes,
                                      std::vector<RefreshTask> tasks);

// True when `in` has feedback to analyze (otherwise: stub board, no CSV).
bool HasFeedback(const BoardInputs& in);

}  // namespace fieldloop::pipeline

#endif  // FIELDLOOP_PIPELINE_BOARD_RENDERER_H_
