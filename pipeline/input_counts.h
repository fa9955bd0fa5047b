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
//
// At most kMaxNamesCounted distinct regions (and as many segments) are kept: they are
// written with every applied batch, and region and segment are free text from producers.
// A record with a name beyond them counts as its kind but not under its name, so with
// that many names the board's number of regions or segments stops at this figure.
void CountInput(const fieldloop::v1::IngestRequest& request, state::InputCounts* counts);

inline constexpr int kMaxNamesCounted = 1000;

}  // namespace fieldloop::pipeline

#endif  // FIELDLOOP_PIPELINE_INPUT_COUNTS_H_
