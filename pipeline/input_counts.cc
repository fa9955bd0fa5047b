#include "pipeline/input_counts.h"

#include <algorithm>
#include <string>

namespace fieldloop::pipeline {
namespace {

using NamedCounts = google::protobuf::RepeatedPtrField<state::NamedCount>;

// Adds one to the count of `name` in `counts` (sorted by name), inserting it in order when
// new. There are few names (regions, segments): a binary search, and rarely a shift.
void Bump(const std::string& name, NamedCounts* counts) {
  auto at = std::lower_bound(
      counts->begin(), counts->end(), name,
      [](const state::NamedCount& c, const std::string& n) { return c.name() < n; });
  if (at != counts->end() && at->name() == name) {
    at->set_count(at->count() + 1);
    return;
  }
  if (counts->size() >= kMaxNamesCounted) return;  // A flood of names: see the header.
  const int index = static_cast<int>(at - counts->begin());
  state::NamedCount* added = counts->Add();
  added->set_name(name);
  added->set_count(1);
  for (int i = counts->size() - 1; i > index; --i) counts->SwapElements(i, i - 1);
}

}  // namespace

void CountInput(const fieldloop::v1::IngestRequest& request, state::InputCounts* counts) {
  switch (request.record_case()) {
    case fieldloop::v1::IngestRequest::kFeedbackEvent:
      counts->set_feedback_events(counts->feedback_events() + 1);
      Bump(request.feedback_event().region(), counts->mutable_regions());
      Bump(request.feedback_event().segment(), counts->mutable_segments());
      break;
    case fieldloop::v1::IngestRequest::kCallTranscript:
      counts->set_call_transcripts(counts->call_transcripts() + 1);
      Bump(request.call_transcript().region(), counts->mutable_regions());
      Bump(request.call_transcript().segment(), counts->mutable_segments());
      break;
    case fieldloop::v1::IngestRequest::kWinLossNote:
      counts->set_win_loss_notes(counts->win_loss_notes() + 1);
      break;
    default:
      break;
  }
}

}  // namespace fieldloop::pipeline
