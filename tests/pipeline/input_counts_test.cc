#include "pipeline/input_counts.h"

#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"

namespace fieldloop::pipeline {
namespace {

using fieldloop::v1::IngestRequest;

IngestRequest Feedback(const std::string& region, const std::string& segment) {
  IngestRequest r;
  r.mutable_feedback_event()->set_region(region);
  r.mutable_feedback_event()->set_segment(segment);
  return r;
}

IngestRequest Transcript(const std::string& region, const std::string& segment) {
  IngestRequest r;
  r.mutable_call_transcript()->set_region(region);
  r.mutable_call_transcript()->set_segment(segment);
  return r;
}

// The counts as (name, count) pairs, in stored order.
std::vector<std::pair<std::string, int64_t>> Pairs(
    const google::protobuf::RepeatedPtrField<state::NamedCount>& counts) {
  std::vector<std::pair<std::string, int64_t>> out;
  for (const state::NamedCount& c : counts) out.emplace_back(c.name(), c.count());
  return out;
}

TEST(CountInput, CountsFeedbackAndTranscriptsPerRegionAndSegmentEmptyNamesIncluded) {
  state::InputCounts counts;
  CountInput(Feedback("NA", "SMB"), &counts);
  CountInput(Feedback("", "SMB"), &counts);
  CountInput(Transcript("NA", ""), &counts);
  EXPECT_EQ(counts.feedback_events(), 2);
  EXPECT_EQ(counts.call_transcripts(), 1);
  EXPECT_EQ(counts.win_loss_notes(), 0);
  EXPECT_EQ(Pairs(counts.regions()),
            (std::vector<std::pair<std::string, int64_t>>{{"", 1}, {"NA", 2}}));
  EXPECT_EQ(Pairs(counts.segments()),
            (std::vector<std::pair<std::string, int64_t>>{{"", 1}, {"SMB", 2}}));
}

// A producer sending a new region with every record cannot grow the counts (written with
// every applied batch) without bound: past kMaxNamesCounted names, new ones are not kept,
// the names kept still count, and every record still counts as its kind.
TEST(CountInput, KeepsAtMostTheCappedNumberOfNamesAndStillCountsEveryRecord) {
  state::InputCounts counts;
  const int records = kMaxNamesCounted + 500;
  for (int i = 0; i < records; ++i) {
    CountInput(Feedback("region-" + std::to_string(100000 + i), "SMB"), &counts);
  }
  CountInput(Feedback("region-100000", "SMB"), &counts);  // A kept name still counts.
  EXPECT_EQ(counts.feedback_events(), records + 1);
  EXPECT_EQ(counts.regions_size(), kMaxNamesCounted);
  EXPECT_EQ(counts.regions(0).name(), "region-100000");
  EXPECT_EQ(counts.regions(0).count(), 2);
  EXPECT_EQ(Pairs(counts.segments()),
            (std::vector<std::pair<std::string, int64_t>>{{"SMB", records + 1}}));
}

TEST(CountInput, KeepsNamesSortedWhateverTheOrderTheyArriveIn) {
  state::InputCounts counts;
  for (const char* region : {"NA", "EMEA", "LATAM", "APAC", "EMEA", "ANZ", "NA"}) {
    CountInput(Feedback(region, "SMB"), &counts);
  }
  EXPECT_EQ(Pairs(counts.regions()),
            (std::vector<std::pair<std::string, int64_t>>{
                {"ANZ", 1}, {"APAC", 1}, {"EMEA", 2}, {"LATAM", 1}, {"NA", 2}}));
}

TEST(CountInput, WinLossNotesCountWithoutRegionsAndOtherKindsCountNothing) {
  state::InputCounts counts;
  IngestRequest note;
  note.mutable_win_loss_note()->set_region("EMEA");
  note.mutable_win_loss_note()->set_segment("SMB");
  CountInput(note, &counts);
  IngestRequest asset;
  asset.mutable_content_asset()->set_asset_id("cnt-1");
  CountInput(asset, &counts);
  IngestRequest metric;
  metric.mutable_onboarding_metric()->set_region("EMEA");
  CountInput(metric, &counts);
  CountInput(IngestRequest(), &counts);
  state::InputCounts want;
  want.set_win_loss_notes(1);
  EXPECT_EQ(counts.SerializeAsString(), want.SerializeAsString());
}

}  // namespace
}  // namespace fieldloop::pipeline
