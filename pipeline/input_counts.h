// CountInput: what the board counts of an initiative's records (state::InputCounts), one
// record at a time. The theme model counts every record it applies with it and the
// materializer counts the events log with it when the theme state has no counts, so both
// count alike.
#ifndef FIELDLOOP_PIPELINE_INPUT_COUNTS_H_
#define FIELDLOOP_PIPELINE_INPUT_COUNTS_H_

#include "pipeline/theme_state.pb.h"
#include "proto/fieldloop/v1/ingest.pb.h"

namespace fieldloop::pipeline {

// Adds `request` to `counts`: a feedback event or call transcript counts as one of its kind
// and once for its region and its segment (an empty region or segment is a name too); a
// win/loss note counts as one; content assets, onboarding metrics and a request without a
// record count nothing. Keeps `counts->regions` and `counts->segments` sorted by name.
void CountInput(const fieldloop::v1::IngestRequest& request, state::InputCounts* counts);

}  // namespace fieldloop::pipeline

#endif  // FIELDLOOP_PIPELINE_INPUT_COUNTS_H_
