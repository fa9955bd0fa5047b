#include "pipeline/record_files.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace fieldloop::pipeline {
namespace {

using ::testing::HasSubstr;

std::vector<ParsedRecord> ParseAll(const std::string& contents, const std::string& initiative,
                                   absl::Status* status = nullptr) {
  std::vector<ParsedRecord> out;
  absl::Status s = ParseRecordFile(contents, initiative, [&](ParsedRecord& r) {
    out.push_back(r);
    return true;
  });
  if (status != nullptr) {
    *status = s;
  } else {
    EXPECT_TRUE(s.ok()) << s;
  }
  return out;
}

TEST(RecordFiles, DetectsFormatFromFirstLine) {
  EXPECT_EQ(*DetectRecordFileFormat("\n{\"feedback_event\": {}}\n"), RecordFileFormat::kJsonLines);
  EXPECT_EQ(*DetectRecordFileFormat("title,asset_id,type\n"), RecordFileFormat::kInventoryCsv);
  EXPECT_EQ(*DetectRecordFileFormat("region,cohort\n"), RecordFileFormat::kMetricsCsv);
  EXPECT_FALSE(DetectRecordFileFormat("").ok());
  EXPECT_FALSE(DetectRecordFileFormat("a,b,c\n").ok());
}

TEST(RecordFiles, JsonLinesReportMalformedLinesAndGoOn) {
  const std::string file =
      "{\"feedback_event\": {\"id\": \"a\", \"text\": \"x\"}}\n"
      "{not json\n"
      "\n"
      "{\"feedback_event\": {\"id\": \"b\", \"bogus\": 1}}\n"
      "{\"feedback_event\": {\"id\": 5, \"text\": [1]}}\n"
      "{\"win_loss_note\": {\"id\": \"c\"}}\n";
  std::vector<ParsedRecord> recs = ParseAll(file, "");
  ASSERT_EQ(recs.size(), 5u);
  EXPECT_TRUE(recs[0].ok);
  EXPECT_EQ(recs[0].line, 1);
  EXPECT_EQ(recs[0].request.feedback_event().id(), "a");
  EXPECT_FALSE(recs[1].ok);
  EXPECT_EQ(recs[1].line, 2);
  EXPECT_FALSE(recs[2].ok);
  EXPECT_EQ(recs[2].line, 4);
  EXPECT_EQ(recs[2].field, "feedback_event.bogus");
  EXPECT_FALSE(recs[3].ok);
  EXPECT_EQ(recs[3].line, 5);
  EXPECT_TRUE(recs[4].ok);
  EXPECT_EQ(recs[4].line, 6);
}

TEST(RecordFiles, InitiativeFlagFillsOrMustMatchJsonRecords) {
  const std::string file =
      "{\"feedback_event\": {\"id\": \"a\"}}\n"
      "{\"feedback_event\": {\"id\": \"b\", \"initiative\": \"q3-push\"}}\n"
      "{\"feedback_event\": {\"id\": \"c\", \"initiative\": \"other\"}}\n";
  std::vector<ParsedRecord> recs = ParseAll(file, "q3-push");
  ASSERT_EQ(recs.size(), 3u);
  EXPECT_EQ(recs[0].request.feedback_event().initiative(), "q3-push");
  EXPECT_TRUE(recs[1].ok);
  EXPECT_FALSE(recs[2].ok);
  EXPECT_EQ(recs[2].field, "initiative");
}

TEST(RecordFiles, InventoryCsvColumnsInAnyOrderWithQuotesAndTags) {
  const std::string file =
      "owner,asset_id,type,title,last_updated,tags\r\n"
      "ann@example.com,deck-1,deck,\"Pricing, packaging and "
      "\"\"discounts\"\"\",2025-02-28,pricing; discount\r\n"
      "bob,bc-1,One-Pager,\"Security\nFAQ\",2026-10-01,\r\n";
  std::vector<ParsedRecord> recs = ParseAll(file, "q3-push");
  ASSERT_EQ(recs.size(), 2u);
  ASSERT_TRUE(recs[0].ok) << recs[0].error;
  const auto& a = recs[0].request.content_asset();
  EXPECT_EQ(a.asset_id(), "deck-1");
  EXPECT_EQ(a.initiative(), "q3-push");
  EXPECT_EQ(a.title(), "Pricing, packaging and \"discounts\"");
  EXPECT_EQ(a.type(), fieldloop::v1::ASSET_TYPE_DECK);
  ASSERT_EQ(a.tags_size(), 2);
  EXPECT_EQ(a.tags(1), "discount");
  ASSERT_TRUE(recs[1].ok) << recs[1].error;
  EXPECT_EQ(recs[1].line, 3);
  EXPECT_EQ(recs[1].request.content_asset().title(), "Security\nFAQ");
  EXPECT_EQ(recs[1].request.content_asset().type(), fieldloop::v1::ASSET_TYPE_ONE_PAGER);
}

TEST(RecordFiles, UnknownOrMissingCsvColumnIsAnErrorNamingIt) {
  absl::Status s;
  ParseAll("asset_id,title,type,owner,last_updated,tags,colour\n", "q3-push", &s);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("unknown column 'colour'"));
  ParseAll("asset_id,title,type,owner,tags\n", "q3-push", &s);
  EXPECT_THAT(s.message(), HasSubstr("missing required column 'last_updated'"));
  ParseAll("cohort,region,segment,reps,ramp_days,ramp_target_days,cert_pass_rate\n", "q3-push", &s);
  EXPECT_THAT(s.message(), HasSubstr("missing required column 'call_quality'"));
  ParseAll("asset_id,title,type,owner,last_updated,tags\n", "", &s);
  EXPECT_THAT(s.message(), HasSubstr("--initiative"));
}

// CheckRecordFile (push's check before it sends anything) says what ParseRecordFile would
// say about the whole file, reading only the header.
TEST(RecordFiles, CheckRecordFileAgreesWithParseRecordFileOnWholeFileProblems) {
  const std::string rows = "cnt-1,Deck,deck,Ana,2026-01-01,x\n";
  for (const auto& [contents, initiative] : std::vector<std::pair<std::string, std::string>>{
           {"asset_id,title,type,owner,last_updated,tags\n" + rows, "q3-push"},
           {"\n\nasset_id,title,type,owner,last_updated,tags,colour\n" + rows, "q3-push"},
           {"asset_id,title,type,owner,tags\n" + rows, "q3-push"},
           {"asset_id,title,Title,type,owner,last_updated,tags\n" + rows, "q3-push"},
           {"asset_id,title,type,owner,last_updated,tags\n" + rows, ""},
           {"cohort,region,segment,reps,ramp_days,ramp_target_days,cert_pass_rate\n", "q3-push"},
           {"{\"feedback_event\": {}}\n", ""},
           {"hello,world\n", "q3-push"},
           // A BOM is dropped only at the very start of the file; after blank lines it is
           // part of the first column name (docs/formats.md).
           {"\xEF\xBB\xBF"
            "asset_id,title,type,owner,last_updated,tags\n" +
                rows,
            "q3-push"},
           {"\n\xEF\xBB\xBF"
            "asset_id,title,type,owner,last_updated,tags\n" +
                rows,
            "q3-push"},
           {"", "q3-push"}}) {
    absl::Status parsed;
    ParseAll(contents, initiative, &parsed);
    EXPECT_EQ(CheckRecordFile(contents, initiative), parsed) << contents;
  }
  // The blank lines before the header count: the unknown column is on line 3.
  EXPECT_THAT(CheckRecordFile("\n\nasset_id,colour\n", "q3-push").message(),
              HasSubstr("line 3: unknown column 'colour'"));
}

TEST(RecordFiles, MetricsCsvParsesNumbersAndReportsBadOnes) {
  const std::string file =
      "period,cohort,region,segment,reps,ramp_days,ramp_target_days,cert_pass_rate,call_quality,"
      "rep_id\n"
      "2026-Q3,2026-06,EMEA,Enterprise,6,142,90,0.58,61,\n"
      "2026-Q3,2026-08,NA,SMB,many,60,75,0.9,80,\n"
      "2026-Q3,2026-08,NA,SMB,4,60,75,0.9\n";
  std::vector<ParsedRecord> recs = ParseAll(file, "q3-push");
  ASSERT_EQ(recs.size(), 3u);
  ASSERT_TRUE(recs[0].ok) << recs[0].error;
  const auto& m = recs[0].request.onboarding_metric();
  EXPECT_EQ(m.cohort(), "2026-06");
  EXPECT_EQ(m.period(), "2026-Q3");
  EXPECT_EQ(m.reps(), 6);
  EXPECT_DOUBLE_EQ(m.ramp_days(), 142);
  EXPECT_DOUBLE_EQ(m.cert_pass_rate(), 0.58);
  EXPECT_FALSE(recs[1].ok);
  EXPECT_EQ(recs[1].field, "reps");
  EXPECT_EQ(recs[1].line, 3);
  EXPECT_FALSE(recs[2].ok);
  EXPECT_EQ(recs[2].field, "line");
}

TEST(RecordFiles, UnknownAssetTypeIsReportedForThatRowOnly) {
  const std::string file =
      "asset_id,title,type,owner,last_updated,tags\n"
      "a,A,flyer,ann,2025-01-01,\n"
      "b,B,battlecard,ann,2025-01-01,\n";
  std::vector<ParsedRecord> recs = ParseAll(file, "q3-push");
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_FALSE(recs[0].ok);
  EXPECT_EQ(recs[0].field, "type");
  EXPECT_THAT(recs[0].error, HasSubstr("flyer"));
  EXPECT_TRUE(recs[1].ok);
}

}  // namespace
}  // namespace fieldloop::pipeline
