#include "pipeline/board_renderer.h"

#include <algorithm>
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"

namespace fieldloop::pipeline {
namespace {

// Text from records or the inventory, made inert in markdown: '<' and '>' as entities (no
// raw HTML), line breaks as spaces.
std::string Text(const std::string& s) {
  return absl::StrReplaceAll(s, {{"<", "&lt;"}, {">", "&gt;"}, {"\n", " "}, {"\r", " "}});
}

// Text for a markdown table cell: also escapes '|'.
std::string Cell(const std::string& s) { return absl::StrReplaceAll(Text(s), {{"|", "\\|"}}); }

void Checklist(std::string* out) {
  absl::StrAppend(
      out, "## Follow-up checklist\n\n",
      "- [ ] Publish this board to sales leadership and the content owners named above.\n",
      "- [ ] Confirm due dates with each owner and update statuses weekly until the themes are "
      "resolved.\n",
      "- [ ] Feed the top objections back into discovery and product teams.\n");
}

}  // namespace

std::vector<RefreshTask> InBoardOrder(const PrioritizedThemes& themes,
                                      std::vector<RefreshTask> tasks) {
  std::map<ThemeId, double> score;
  for (const PrioritizedTheme* t : themes.All()) score[t->theme.id] = t->score;
  std::stable_sort(tasks.begin(), tasks.end(), [&](const RefreshTask& a, const RefreshTask& b) {
    if (a.priority != b.priority) return a.priority < b.priority;  // "P1" < "P2" < "P3".
    return score[a.theme_id] > score[b.theme_id];
  });
  return tasks;
}

bool HasFeedback(const BoardInputs& in) { return in.feedback_events + in.call_transcripts > 0; }

std::string RenderBoard(const BoardInputs& in) {
  std::string out = absl::StrCat("# Enablement action board: ", in.initiative, "\n\n", "As of ",
                                 absl::FormatCivilTime(in.as_of), ".\n\n");
  std::vector<std::string> missing;
  if (!HasFeedback(in))
    missing.push_back("feedback_stream (rep feedback, call notes or transcripts)");
  if (in.win_loss_notes == 0) missing.push_back("win_loss_notes");
  if (in.content_assets == 0) missing.push_back("content_inventory (optional)");
  if (in.onboarding_rows == 0) missing.push_back("onboarding_metrics (optional)");

  if (!HasFeedback(in)) {
    absl::StrAppend(&out, "## Waiting for field feedback\n\n",
                    "There is no rep feedback for this initiative yet, so there are no themes "
                    "to act on. Missing inputs:\n\n");
    for (const std::string& m : missing) absl::StrAppend(&out, "- ", m, "\n");
    absl::StrAppend(&out, "\nNo content refresh plan was generated.");
    if (in.previous_plan_exists) {
      absl::StrAppend(&out, " The content_refresh.csv from an earlier run was left as it is.");
    }
    absl::StrAppend(&out, "\n\nStream feedback events or call transcripts for `", in.initiative,
                    "` and materialize again.\n");
    return out;
  }

  // Summary.
  absl::StrAppend(&out, "## Summary\n\n");
  absl::StrAppend(&out,
                  absl::StrFormat("- Inputs: %d feedback events, %d call transcripts, %d win/loss "
                                  "notes, %d content assets, %d onboarding metric rows.\n",
                                  in.feedback_events, in.call_transcripts, in.win_loss_notes,
                                  in.content_assets, in.onboarding_rows));
  if (!missing.empty()) {
    absl::StrAppend(&out, "- Missing: ", absl::StrJoin(missing, ", "),
                    ". The sections that need them say so.\n");
  }
  int64_t first = 0, last = 0;
  std::vector<const PrioritizedTheme*> every = in.themes.All();
  for (const PrioritizedTheme& t : in.themes.emerging) every.push_back(&t);
  for (const PrioritizedTheme* each : every) {
    const PrioritizedTheme& t = *each;
    if (first == 0 || t.theme.first_seen < first) first = t.theme.first_seen;
    last = std::max(last, t.theme.last_seen);
  }
  if (first > 0) {
    const absl::CivilDay a = absl::ToCivilDay(absl::FromUnixSeconds(first), absl::UTCTimeZone());
    const absl::CivilDay b = absl::ToCivilDay(absl::FromUnixSeconds(last), absl::UTCTimeZone());
    absl::StrAppend(&out, "- Period: ", absl::FormatCivilTime(a), " to ", absl::FormatCivilTime(b),
                    ".\n");
  }
  int refresh = 0, create = 0;
  for (const RefreshTask& t : in.tasks) (t.action == "refresh" ? refresh : create)++;
  absl::StrAppend(
      &out, absl::StrFormat("- %d global themes, %d regional, %d emerging; %d refresh and %d "
                            "create tasks; %d ramp risks.\n\n",
                            in.themes.global.size(), in.themes.regional.size(),
                            in.themes.emerging.size(), refresh, create, in.ramp_risks.size()));

  // Prioritized fixes.
  absl::StrAppend(&out, "## Prioritized fixes\n\n",
                  "| rank | theme | why | owner | due | format | status |\n",
                  "| --- | --- | --- | --- | --- | --- | --- |\n");
  int rank = 0;
  for (const RefreshTask& t : InBoardOrder(in.themes, in.tasks)) {
    const std::string what =
        t.action == "refresh" ? absl::StrCat("refresh ", t.asset) : "new content";
    absl::StrAppend(&out, "| ", ++rank, " (", t.priority, ") | ", Cell(t.theme), " | ",
                    Cell(what + ": " + t.reason), " | ", Cell(t.owner), " | ", t.due, " | ",
                    Cell(t.format), " | ", t.status, " |\n");
  }
  if (in.tasks.empty()) absl::StrAppend(&out, "| - | no fixes needed | | | | | |\n");

  // Loud themes whose content is already fresh: more content may not be the answer.
  std::vector<std::string> fresh;
  for (const PrioritizedTheme* t : in.themes.All()) {
    auto it = in.linked_assets.find(t->theme.id);
    if (it == in.linked_assets.end()) continue;
    std::vector<std::string> titles;
    for (const LinkedAsset& a : it->second) {
      if (a.freshness.stale) break;
      titles.push_back(absl::StrCat(Text(a.title), ", ", Text(a.asset_id)));
    }
    if (titles.size() != it->second.size()) continue;
    fresh.push_back(absl::StrCat("**", Text(t->theme.label), "** (", t->theme.mentions,
                                 " mentions; ", absl::StrJoin(titles, "; "), ")"));
    if (fresh.size() == 5) break;
  }
  if (!fresh.empty()) {
    absl::StrAppend(&out,
                    "\nAlready covered by fresh content, so no task: ", absl::StrJoin(fresh, ", "),
                    ". If these keep coming up, the content may not be reaching reps, or the "
                    "root cause may be coaching, process or the product rather than content.\n");
  }

  // Regional themes.
  absl::StrAppend(&out, "\n## Regional themes\n\n");
  if (in.themes.regional.empty())
    absl::StrAppend(&out, "None: every theme is spread across regions and segments.\n");
  for (const PrioritizedTheme& t : in.themes.regional) {
    absl::StrAppend(&out, "- **", Text(t.theme.label), "** (", Text(t.concentrated_in),
                    "): ", t.why, "\n");
  }

  // Emerging signals.
  if (!in.themes.emerging.empty()) {
    absl::StrAppend(&out, "\n## Emerging signals\n\n",
                    absl::StrFormat("Fewer than %d mentions each, so no task yet; worth a look if "
                                    "they grow.\n\n",
                                    in.themes.min_mentions));
    const size_t listed = std::min(in.themes.emerging.size(), kMaxEmergingListed);
    for (size_t i = 0; i < listed; ++i) {
      const PrioritizedTheme& t = in.themes.emerging[i];
      std::vector<std::string> ids;
      for (const pipeline::Quote& q : t.theme.quotes) ids.push_back(q.record_id);
      absl::StrAppend(&out, "- **", Text(t.theme.label), "**: ", t.why, " (",
                      Text(absl::StrJoin(ids, ", ")), ")\n");
    }
    if (in.themes.emerging.size() > listed) {
      absl::StrAppend(&out, "- and ", in.themes.emerging.size() - listed,
                      " more, lower by priority score (`fieldloop themes` lists them)\n");
    }
  }

  // Theme details.
  absl::StrAppend(&out, "\n## Theme details\n");
  for (const PrioritizedTheme* each : in.themes.All()) {
    const PrioritizedTheme& t = *each;
    absl::StrAppend(&out, "\n### ", Text(t.theme.label), " (theme ", t.theme.id, ")\n\n",
                    "- Why: ", t.why, "\n");
    if (t.theme.objections > 0) {
      absl::StrAppend(&out, "- Buyer objections in win/loss notes: ", t.theme.objections, "\n");
    }
    if (!t.theme.competitors.empty()) {
      std::vector<std::string> names;
      for (const auto& [name, n] : t.theme.competitors)
        names.push_back(absl::StrCat(Text(name), " (", n, ")"));
      absl::StrAppend(&out, "- Competitors: ", absl::StrJoin(names, ", "), "\n");
    }
    if (auto it = in.linked_assets.find(t.theme.id); it != in.linked_assets.end()) {
      std::vector<std::string> assets;
      for (const LinkedAsset& a : it->second) {
        assets.push_back(absl::StrCat(Text(a.title), " (", Text(a.asset_id), ", ",
                                      a.freshness.stale ? "stale" : "fresh", ", updated ",
                                      a.last_updated, ")"));
      }
      absl::StrAppend(&out, "- Linked assets: ", absl::StrJoin(assets, ", "), "\n");
    }
    if (auto it = in.proof_points.find(t.theme.id); it != in.proof_points.end()) {
      for (const ProofPoint& p : it->second) {
        absl::StrAppend(&out, "- ", p.customer_story ? "Customer story" : "Proof point",
                        p.won ? " (won deal, " : " (", Text(p.record_id), "): ", Text(p.text),
                        "\n");
      }
    }
    for (const pipeline::Quote& q : t.theme.quotes) {
      absl::StrAppend(&out, "> \"", Text(q.text), "\" (", Text(q.record_id), ")\n>\n");
    }
  }

  // Content gaps and stale content.
  absl::StrAppend(&out, "\n## Content gaps\n\n");
  if (in.content_assets == 0)
    absl::StrAppend(&out, "No content inventory was provided, so every theme counts as a gap.\n");
  bool any = false;
  for (const RefreshTask& t : in.tasks) {
    if (t.action != "create") continue;
    any = true;
    absl::StrAppend(&out, "- **", Text(t.theme), "**: suggest a ", t.format, " (", t.priority,
                    ", due ", t.due, ").\n");
  }
  if (!any) absl::StrAppend(&out, "None: every theme has covering content.\n");
  absl::StrAppend(&out, "\n## Stale content\n\n");
  any = false;
  for (const RefreshTask& t : in.tasks) {
    if (t.action != "refresh") continue;
    any = true;
    absl::StrAppend(&out, "- **", Text(t.asset), "** (", Text(t.asset_id), ", owner ",
                    Text(t.owner), ") for **", Text(t.theme), "**: ", Text(t.reason), ".\n");
  }
  if (!any) absl::StrAppend(&out, "None: the assets tied to live themes are fresh.\n");

  // Ramp risks.
  absl::StrAppend(&out, "\n## Ramp risks\n\n");
  if (in.onboarding_rows == 0) {
    absl::StrAppend(&out, "No onboarding metrics were provided.\n");
  } else if (in.ramp_risks.empty()) {
    absl::StrAppend(&out, "None: every cohort is within its thresholds.\n");
  }
  for (const RampRisk& r : in.ramp_risks) {
    absl::StrAppend(&out, "- Cohort ", Text(r.cohort), " (", Text(r.region), ", ", Text(r.segment),
                    r.period.empty() ? "" : absl::StrCat(", ", Text(r.period)), ", ", r.reps,
                    " reps): ", absl::StrJoin(r.reasons, "; "), ".\n");
    const RampAdvice advice = AdviseRamp(r, in.themes, in.tasks);
    if (advice.modules.empty()) continue;
    std::vector<std::string> modules;
    for (const std::string& m : advice.modules)
      modules.push_back(absl::StrCat("**", Text(m), "**"));
    absl::StrAppend(&out, "  - Modules to refine, from what reps in ", Text(r.region), " and ",
                    Text(r.segment), " hear most: ", absl::StrJoin(modules, ", "), ".\n");
    if (advice.content_fresh) {
      absl::StrAppend(&out,
                      "  - The content for these themes is fresh, so it may not be the limiter: "
                      "worth checking coaching (ride-alongs, call reviews) and process with the "
                      "cohort's managers.\n");
    } else {
      absl::StrAppend(&out,
                      "  - Some of this content is stale or missing (see the plan); refresh it "
                      "first, then check whether coaching also needs attention.\n");
    }
  }

  // Recurring themes.
  absl::StrAppend(&out, "\n## Recurring themes for product-gap / ICP review\n\n");
  std::vector<std::string> recurring;
  for (const PrioritizedTheme* t : in.themes.All()) {
    if (t->recurring_quarters.empty()) continue;
    recurring.push_back(absl::StrCat("- **", Text(t->theme.label),
                                     "**: ", absl::StrJoin(t->recurring_quarters, ", "), " (",
                                     t->theme.mentions, " mentions)\n"));
  }
  if (!recurring.empty()) {
    absl::StrAppend(&out,
                    "These came up in two or more consecutive quarters. Content alone may not "
                    "fix them: worth asking whether the product or the ideal customer profile "
                    "is the root cause.\n\n",
                    absl::StrJoin(recurring, ""));
  }
  if (recurring.empty()) absl::StrAppend(&out, "None yet.\n");

  // Objections for discovery and product.
  absl::StrAppend(&out, "\n## Top objections for discovery and product\n\n");
  if (in.win_loss_notes == 0) absl::StrAppend(&out, "No win/loss notes were provided.\n");
  std::vector<const PrioritizedTheme*> by_objections;
  for (const PrioritizedTheme* t : in.themes.All()) {
    if (t->theme.objections > 0) by_objections.push_back(t);
  }
  std::sort(by_objections.begin(), by_objections.end(), [](const auto* a, const auto* b) {
    return a->theme.objections != b->theme.objections ? a->theme.objections > b->theme.objections
                                                      : a->theme.id < b->theme.id;
  });
  for (size_t i = 0; i < by_objections.size() && i < 5; ++i) {
    const ThemeSummary& t = by_objections[i]->theme;
    absl::StrAppend(&out, "- **", Text(t.label), "**: ", t.objections, " objections, ",
                    t.lost_deals, " lost deals\n");
  }
  absl::StrAppend(&out, "\n");
  Checklist(&out);
  return out;
}

}  // namespace fieldloop::pipeline
