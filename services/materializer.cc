#include "services/materializer.h"

#include <filesystem>
#include <map>

#include "pipeline/board_renderer.h"
#include "pipeline/ramp_risks.h"
#include "pipeline/text_normalizer.h"
#include "pipeline/theme_priority.h"
#include "proto/fieldloop/v1/ingest.pb.h"

namespace fieldloop::services {

absl::StatusOr<MaterializeResult> Materialize(const storage::Store& store,
                                              const std::string& initiative,
                                              const std::vector<pipeline::ThemeSummary>& summaries,
                                              absl::CivilDay as_of,
                                              const std::string& output_root) {
  absl::StatusOr<OutputPaths> paths = PathsFor(output_root, initiative);
  if (!paths.ok()) return paths.status();
  MaterializeResult result;
  result.paths = *paths;

  pipeline::BoardInputs in;
  in.initiative = initiative;
  in.as_of = as_of;
  // Latest version of each asset and metric row, by id (ordered maps: stable order).
  std::map<std::string, fieldloop::v1::ContentAsset> assets;
  std::map<std::string, fieldloop::v1::OnboardingMetric> metrics;
  std::map<std::string, int> regions, segments;
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
  std::error_code ec;
  in.previous_plan_exists = std::filesystem::exists(result.paths.plan, ec);

  if (pipeline::HasFeedback(in)) {
    in.themes = pipeline::Prioritize(summaries, as_of, static_cast<int>(regions.size()),
                                     static_cast<int>(segments.size()));
    std::vector<fieldloop::v1::ContentAsset> asset_list;
    for (auto& [id, a] : assets) asset_list.push_back(a);
    pipeline::TextNormalizer normalizer;
    in.tasks = pipeline::PlanTasks(in.themes, asset_list, as_of, normalizer);
    std::vector<fieldloop::v1::OnboardingMetric> metric_list;
    for (auto& [id, m] : metrics) metric_list.push_back(m);
    in.ramp_risks = pipeline::FindRampRisks(metric_list);
  }
  const std::string board = pipeline::RenderBoard(in);
  if (absl::Status s = WriteFileAtomically(result.paths.board, board); !s.ok()) return s;
  result.stub = !pipeline::HasFeedback(in);
  if (!result.stub) {
    if (absl::Status s =
            WriteFileAtomically(result.paths.plan, pipeline::RenderRefreshPlanCsv(in.tasks));
        !s.ok()) {
      return s;
    }
    result.plan_written = true;
  }
  result.tasks = std::move(in.tasks);
  return result;
}

}  // namespace fieldloop::services
