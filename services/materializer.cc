#include "services/materializer.h"

#include <filesystem>
#include <map>

#include "absl/strings/str_format.h"
#include "pipeline/board_renderer.h"
#include "pipeline/pii_redactor.h"
#include "pipeline/ramp_risks.h"
#include "pipeline/task_edits.h"
#include "pipeline/text_normalizer.h"
#include "pipeline/theme_priority.h"
#include "proto/fieldloop/v1/ingest.pb.h"

namespace fieldloop::services {

absl::StatusOr<pipeline::BoardInputs> AnalyzeInitiative(
    const storage::Store& store, const std::string& initiative, const ThemeView& themes,
    absl::CivilDay as_of, std::vector<state::TaskRecord>* task_records, bool redact_pii) {
  pipeline::BoardInputs in;
  in.initiative = initiative;
  in.as_of = as_of;
  // Latest version of each asset and metric row, by id (ordered maps: stable order).
  std::map<std::string, fieldloop::v1::ContentAsset> assets;
  std::map<std::string, fieldloop::v1::OnboardingMetric> metrics;
  std::map<std::string, int> regions, segments;
  std::vector<fieldloop::v1::WinLossNote> notes;
  fieldloop::v1::IngestRequest request;
  absl::Status scan = store.ScanEvents(initiative, 0, [&](const storage::StoredRecord& r) {
    if (!request.ParseFromString(r.payload)) return true;
    switch (request.record_case()) {
      case fieldloop::v1::IngestRequest::kFeedbackEvent:
        ++in.feedback_events;
        regions[request.feedback_event().region()];
        segments[request.feedback_event().segment()];
        break;
      case fieldloop::v1::IngestRequest::kCallTranscript:
        ++in.call_transcripts;
        regions[request.call_transcript().region()];
        segments[request.call_transcript().segment()];
        break;
      case fieldloop::v1::IngestRequest::kWinLossNote:
        ++in.win_loss_notes;
        notes.push_back(request.win_loss_note());
        break;
      case fieldloop::v1::IngestRequest::kContentAsset:
        assets[r.id] = request.content_asset();
        break;
      case fieldloop::v1::IngestRequest::kOnboardingMetric:
        metrics[r.id] = request.onboarding_metric();
        break;
      default:
        break;
    }
    return true;
  });
  if (!scan.ok()) return scan;
  in.content_assets = static_cast<int64_t>(assets.size());
  in.onboarding_rows = static_cast<int64_t>(metrics.size());
  if (pipeline::HasFeedback(in)) {
    in.themes = pipeline::Prioritize(themes.summaries, as_of, static_cast<int>(regions.size()),
                                     static_cast<int>(segments.size()));
    std::vector<fieldloop::v1::ContentAsset> asset_list;
    for (auto& [id, a] : assets) asset_list.push_back(a);
    pipeline::TextNormalizer normalizer;
    const pipeline::PlanOptions plan_options;
    in.linked_assets =
        pipeline::LinkAssets(in.themes, asset_list, as_of, normalizer, plan_options.windows);
    in.tasks = pipeline::PlanTasks(in.themes, in.linked_assets, as_of, plan_options);
    std::vector<fieldloop::v1::OnboardingMetric> metric_list;
    for (auto& [id, m] : metrics) metric_list.push_back(m);
    in.ramp_risks = pipeline::FindRampRisks(metric_list);
    in.proof_points = pipeline::TieProofPoints(in.themes, notes, normalizer);
    if (redact_pii) {
      for (auto* list : {&in.themes.global, &in.themes.regional, &in.themes.emerging}) {
        for (pipeline::PrioritizedTheme& t : *list) {
          for (pipeline::Quote& q : t.theme.quotes) q.text = pipeline::RedactPii(q.text);
        }
      }
      for (auto& [id, points] : in.proof_points) {
        for (pipeline::ProofPoint& p : points) p.text = pipeline::RedactPii(p.text);
      }
    }
    absl::StatusOr<pipeline::TaskRecords> records = ReadTaskRecords(store, initiative);
    if (!records.ok()) return records.status();
    if (themes.resolve) *records = pipeline::ResolveMergedThemes(*records, themes.resolve);
    std::vector<state::TaskRecord> updated = pipeline::ApplyTaskRecords(*records, &in.tasks);
    if (task_records != nullptr) *task_records = std::move(updated);
  }
  return in;
}

absl::StatusOr<RenderedOutputs> RenderOutputs(const storage::Store& store,
                                              const std::string& initiative,
                                              const ThemeView& themes, absl::CivilDay as_of,
                                              const std::string& output_root, bool redact_pii) {
  absl::StatusOr<OutputPaths> paths = PathsFor(output_root, initiative);
  if (!paths.ok()) return paths.status();
  RenderedOutputs result;
  result.paths = *paths;
  absl::StatusOr<pipeline::BoardInputs> analyzed =
      AnalyzeInitiative(store, initiative, themes, as_of, &result.task_records, redact_pii);
  if (!analyzed.ok()) return analyzed.status();
  pipeline::BoardInputs& in = *analyzed;
  std::error_code ec;
  in.previous_plan_exists = std::filesystem::exists(result.paths.plan, ec);
  result.board = pipeline::RenderBoard(in);
  result.stub = !pipeline::HasFeedback(in);
  if (!result.stub) result.plan_csv = pipeline::RenderRefreshPlanCsv(in.tasks);
  result.themes = static_cast<int>(in.themes.global.size() + in.themes.regional.size());
  result.tasks = pipeline::InBoardOrder(in.themes, std::move(in.tasks));
  return result;
}

absl::StatusOr<MaterializeResult> Materialize(storage::Store& store, const std::string& initiative,
                                              const ThemeView& themes, absl::CivilDay as_of,
                                              const std::string& output_root, bool keep_history,
                                              bool redact_pii) {
  absl::StatusOr<RenderedOutputs> rendered =
      RenderOutputs(store, initiative, themes, as_of, output_root, redact_pii);
  if (!rendered.ok()) return rendered.status();
  MaterializeResult result;
  result.paths = rendered->paths;
  result.stub = rendered->stub;
  result.themes = rendered->themes;
  if (absl::Status s = WriteFileAtomically(result.paths.board, rendered->board); !s.ok()) return s;
  if (!result.stub) {
    if (absl::Status s = WriteFileAtomically(result.paths.plan, rendered->plan_csv); !s.ok()) {
      return s;
    }
  }
  // Due dates and what the plan showed are stored once the files are written: an imported
  // CSV is compared with what people could have seen.
  if (!rendered->task_records.empty()) {
    std::vector<std::pair<std::string, std::string>> puts;
    for (const state::TaskRecord& r : rendered->task_records) {
      puts.emplace_back(r.task_key(), r.SerializeAsString());
    }
    if (absl::Status s = store.PutTasks(initiative, puts); !s.ok()) return s;
  }
  if (keep_history) {
    const std::string dir = absl::StrCat(result.paths.dir, "/history/", IsoWeek(as_of));
    result.history_board = dir + "/enablement_feedback.md";
    if (absl::Status s = WriteFileAtomically(result.history_board, rendered->board); !s.ok()) {
      return s;
    }
    if (!result.stub) {
      result.history_plan = dir + "/content_refresh.csv";
      if (absl::Status s = WriteFileAtomically(result.history_plan, rendered->plan_csv); !s.ok()) {
        return s;
      }
    }
  }
  result.tasks = std::move(rendered->tasks);
  return result;
}

absl::StatusOr<pipeline::TaskRecords> ReadTaskRecords(const storage::Store& store,
                                                      const std::string& initiative) {
  pipeline::TaskRecords records;
  absl::Status read =
      store.ScanTasks(initiative, [&](absl::string_view key, absl::string_view value) {
        state::TaskRecord r;
        if (r.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
          records[std::string(key)] = std::move(r);
        }
      });
  if (!read.ok()) return read;
  return records;
}

std::string IsoWeek(absl::CivilDay day) {
  // The Thursday of day's week decides the ISO year; count weeks from that year's first.
  const int from_monday =
      (static_cast<int>(absl::GetWeekday(day)) + 7 - static_cast<int>(absl::Weekday::monday)) % 7;
  const absl::CivilDay thursday = day - from_monday + 3;
  const absl::CivilYear year(thursday);
  const int week = static_cast<int>((thursday - absl::CivilDay(year)) / 7) + 1;
  return absl::StrFormat("%04d-W%02d", year.year(), week);
}

}  // namespace fieldloop::services
