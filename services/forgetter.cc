#include "services/forgetter.h"

#include <set>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "pipeline/record_validator.h"

namespace fieldloop::services {
namespace {

// The rep a stored record names in its rep_id field; empty for kinds without one.
absl::string_view RepOf(const fieldloop::v1::IngestRequest& request) {
  switch (request.record_case()) {
    case fieldloop::v1::IngestRequest::kFeedbackEvent:
      return request.feedback_event().rep_id();
    case fieldloop::v1::IngestRequest::kCallTranscript:
      return request.call_transcript().rep_id();
    case fieldloop::v1::IngestRequest::kOnboardingMetric:
      return request.onboarding_metric().rep_id();
    default:
      return {};
  }
}

}  // namespace

absl::StatusOr<ForgetResult> Forgetter::Forget(const ForgetSelection& selection) const {
  if (absl::Status s = pipeline::CheckInitiative(selection.initiative); !s.ok()) return s;
  if (selection.records.empty() && selection.rep_id.empty()) {
    return absl::InvalidArgumentError(
        "records or rep_id: give at least one record id or a rep id to forget");
  }
  // Ids of any kind, and (kind, id) pairs.
  absl::flat_hash_set<std::string> any_kind;
  std::set<std::pair<storage::RecordKind, std::string>> by_kind;
  for (size_t i = 0; i < selection.records.size(); ++i) {
    const ForgetSelection::RecordRef& ref = selection.records[i];
    if (ref.id.empty()) {
      return absl::InvalidArgumentError(absl::StrCat("records[", i, "].id: required"));
    }
    if (ref.kind.has_value()) {
      by_kind.emplace(*ref.kind, ref.id);
    } else {
      any_kind.insert(ref.id);
    }
  }
  if (store_->LastSequence(selection.initiative) == 0) {
    return absl::NotFoundError(
        absl::StrCat("initiative '", selection.initiative, "' has no records"));
  }
  const std::string& rep = selection.rep_id;
  absl::StatusOr<ThemeApplier::Removal> removal = applier_->RemoveRecords(
      selection.initiative,
      [&](const storage::StoredRecord& record, const fieldloop::v1::IngestRequest* request) {
        if (any_kind.contains(record.id) || by_kind.count({record.kind, record.id}) > 0) {
          return true;
        }
        return !rep.empty() && request != nullptr && RepOf(*request) == rep;
      });
  if (!removal.ok()) {
    if (log_ != nullptr) {
      log_->Warning("admin", "forget in %s failed, nothing removed: %s", selection.initiative,
                    removal.status().message());
    }
    return removal.status();
  }
  ForgetResult result;
  std::set<std::pair<storage::RecordKind, std::string>> identities;
  for (const storage::StoredRecord& r : removal->removed) {
    if (!identities.emplace(r.kind, r.id).second) continue;  // Another version.
    switch (r.kind) {
      case storage::RecordKind::kFeedbackEvent:
        ++result.feedback_events;
        break;
      case storage::RecordKind::kCallTranscript:
        ++result.call_transcripts;
        break;
      case storage::RecordKind::kWinLossNote:
        ++result.win_loss_notes;
        break;
      case storage::RecordKind::kContentAsset:
        ++result.content_assets;
        break;
      case storage::RecordKind::kOnboardingMetric:
        ++result.onboarding_metrics;
        break;
    }
  }
  result.themes_before = static_cast<int64_t>(removal->themes_before);
  result.themes_after = static_cast<int64_t>(removal->themes_after);
  result.version = removal->version;
  if (log_ != nullptr) {
    log_->Info("admin",
               "forget in %s: %d records removed (%d feedback events, %d call transcripts, %d "
               "win/loss notes, %d content assets, %d onboarding metrics; selected by %d ids%s); "
               "themes %d -> %d, version %d",
               selection.initiative, result.total(), result.feedback_events,
               result.call_transcripts, result.win_loss_notes, result.content_assets,
               result.onboarding_metrics, selection.records.size(),
               rep.empty() ? "" : " and a rep id", result.themes_before, result.themes_after,
               result.version);
  }
  return result;
}

}  // namespace fieldloop::services
