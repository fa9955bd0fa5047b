// Forgetter: Admin.Forget without gRPC. Removes records of one initiative, selected by id or
// by rep id, from the store and from its theme state (ThemeApplier::RemoveRecords rebuilds
// the themes from the records left), and logs one INFO line per call with counts only,
// never the forgotten ids or text. Thread-safe.
#ifndef FIELDLOOP_SERVICES_FORGETTER_H_
#define FIELDLOOP_SERVICES_FORGETTER_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "services/event_log.h"
#include "services/theme_applier.h"
#include "storage/keys.h"
#include "storage/store.h"

namespace fieldloop::services {

// Which records to forget. A record selected by any selector is removed.
struct ForgetSelection {
  // Required; must match [a-z0-9][a-z0-9._-]{0,63}.
  std::string initiative;
  struct RecordRef {
    // nullopt: a record of any kind with `id`.
    std::optional<storage::RecordKind> kind;
    // The stored id (for onboarding metrics "cohort|region|segment|period|rep_id"). Required.
    std::string id;
  };
  std::vector<RecordRef> records;
  // Every feedback event, call transcript and onboarding metric row whose rep_id equals it
  // exactly; empty: none. Win/loss notes and content assets have no rep id.
  std::string rep_id;
};

// What a Forget removed.
struct ForgetResult {
  // Identities removed per kind (a content asset or metric counts once for all its stored
  // versions).
  int64_t feedback_events = 0;
  int64_t call_transcripts = 0;
  int64_t win_loss_notes = 0;
  int64_t content_assets = 0;
  int64_t onboarding_metrics = 0;
  // Live themes of the initiative before and after.
  int64_t themes_before = 0;
  int64_t themes_after = 0;
  // The initiative's new last sequence and applied watermark; 0 when nothing was removed.
  storage::SequenceNumber version = 0;

  int64_t total() const {
    return feedback_events + call_transcripts + win_loss_notes + content_assets +
           onboarding_metrics;
  }
};

class Forgetter {
 public:
  // `store`, `applier` and `log` (may be nullptr: nothing logged) must outlive the
  // forgetter.
  Forgetter(const storage::Store* store, ThemeApplier* applier, EventLog* log)
      : store_(store), applier_(applier), log_(log) {}

  // Removes the records `selection` selects (ThemeApplier::RemoveRecords). Returns
  // InvalidArgument naming the field ("initiative: ...", "records[2].id: ...",
  // "records or rep_id: ...") with nothing removed, NotFound when the initiative has no
  // records, and the applier's or store's error (nothing removed). Nothing matched is OK
  // with all counts 0 and nothing written.
  absl::StatusOr<ForgetResult> Forget(const ForgetSelection& selection) const;

 private:
  const storage::Store* const store_;
  ThemeApplier* const applier_;
  EventLog* const log_;
};

}  // namespace fieldloop::services

#endif  // FIELDLOOP_SERVICES_FORGETTER_H_
