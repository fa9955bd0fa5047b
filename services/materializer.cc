#include "services/materializer.h"

#include <filesystem>
#include <map>

#include "absl/strings/str_format.h"
#include "pipeline/board_renderer.h"
#include "pipeline/input_counts.h"
#include "pipeline/pii_redactor.h"
#include "pipeline/ramp_risks.h"
#include "pipeline/task_edits.h"
#include "pipeline/text_normalizer.h"
#include "pipeline/theme_priority.h"
#include "proto/fieldloop/v1/ingest.pb.h"

namespace fieldloop::services {

namespace {

// What AnalyzeInitiative takes from the records of an initiative.
struct RecordInputs {
  state::InputCounts counts;
  std::vector<fieldloop::v1::ContentAsset> assets;       // Latest version of each, by id.
  std::vector<fieldloop::v1::OnboardingMetric> metrics;  // Latest version of each, by id.
  std::vector<fieldloop::v1::WinLossNote> notes;         // In sequence order.
};

// Reads them from every stored event of `initiative`, counting as the theme state does.
absl::Status ScanRecordInputs(const storage::Store& store, const std::string& initiative,
                              RecordInputs* out) {
  // Latest version of each asset and metric row, by id (ordered maps: stable order).
  std::map<std::string, fieldloop::v1::ContentAsset> assets;
  std::map<std::string, fieldloop::v1::OnboardingMetric> metrics;
  fieldloop::v1::IngestRequest request;
  absl::Status scan = store.ScanEvents(initiative, 0, [&](const storage::StoredRecord& r) {
    if (!request.ParseFromString(r.payload)) return true;
    pipeline::CountInput(request, &out->counts);
    switch (request.record_case()) {
      case fieldloop::v1::IngestRequest::kWinLossNote:
        out->notes.push_back(request.win_loss_note());
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
  for (auto& [id, a] : assets) out->assets.push_back(std::move(a));
  for (auto& [id, m] : metrics) out->metrics.push_back(std::move(m));
  return absl::OkStatus();
}

// Appends to `out` the record (`get`) of each latest payload of state kind `kind` in
// `initiative` that parses and holds one (`has`), in id order.
template <typename Message>
absl::Status ReadLatest(const storage::Store& store, const std::string& initiative,
                        storage::RecordKind kind, bool (fieldloop::v1::IngestRequest::*has)() const,
                        const Message& (fieldloop::v1::IngestRequest::*get)() const,
                        std::vector<Message>* out) {
  fieldloop::v1::IngestRequest request;
  return store.ScanLatestState(initiative, kind, [&](absl::string_view, absl::string_view payload) {
    if (request.ParseFromArray(payload.data(), static_cast<int>(payload.size())) &&
        (request.*has)()) {
      out->push_back((request.*get)());
    }
    return true;
  });
}

// Reads them without the events log as a whole: `counts` from the theme state, assets and
// metrics from their latest-state column families (in id order, as the scan's maps), and
// win/loss notes through the ids index (in sequence order, as the scan meets them).
absl::Status ReadRecordInputs(const storage::Store& store, const std::string& initiative,
                              const state::InputCounts& counts, RecordInputs* out) {
  using fieldloop::v1::IngestRequest;
  out->counts = counts;
  if (absl::Status read = ReadLatest(store, initiative, storage::RecordKind::kContentAsset,
                                     &IngestRequest::has_content_asset,
                                     &IngestRequest::content_asset, &out->assets);
      !read.ok()) {
    return read;
  }
  if (absl::Status read = ReadLatest(store, initiative, storage::RecordKind::kOnboardingMetric,
                                     &IngestRequest::has_onboarding_metric,
                                     &IngestRequest::onboarding_metric, &out->metrics);
      !read.ok()) {
    return read;
  }
  IngestRequest request;
  return store.ScanKind(initiative, storage::RecordKind::kWinLossNote,
                        [&](const storage::StoredRecord& r) {
                          if (request.ParseFromString(r.payload) && request.has_win_loss_note()) {
                            out->notes.push_back(request.win_loss_note());
                          }
                          return true;
                        });
}

}  // namespace

absl::StatusOr<pipeline::BoardInputs> AnalyzeInitiative(
    const storage::Store& store, const std::string& initiative, const ThemeView& themes,
    absl::CivilDay as_of, std::vector<state::TaskRecord>* task_records, bool redact_pii) {
  pipeline::BoardInputs in;
  in.initiative = initiative;
  in.as_of = as_of;
  RecordInputs inputs;
  absl::Status read = themes.inputs.has_value()
                          ? ReadRecordInputs(store, initiative, *themes.inputs, &inputs)
                          : ScanRecordInputs(store, initiative, &inputs);
  if (!read.ok()) return read;
  in.feedback_events = inputs.counts.feedback_events();
  in.call_transcripts = inputs.counts.call_transcripts();
  in.win_loss_notes = inputs.counts.win_loss_notes();
  in.content_assets = static_cast<int64_t>(inputs.assets.size());
  in.onboarding_rows = static_cast<int64_t>(inputs.metrics.size());
  if (pipeline::HasFeedback(in)) {
    in.themes = pipeline::Prioritize(themes.summaries, as_of, inputs.counts.regions_size(),
                                     inputs.counts.segments_size());
    pipeline::TextNormalizer normalizer;
    const pipeline::PlanOptions plan_options;
    in.linked_assets =
        pipeline::LinkAssets(in.themes, inputs.assets, as_of, normalizer, plan_options.windows);
    in.tasks = pipeline::PlanTasks(in.themes, in.linked_assets, as_of, plan_options);
    in.ramp_risks = pipeline::FindRampRisks(inputs.metrics);
    in.proof_points = pipeline::TieProofPoints(in.themes, inputs.notes, normalizer);
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
