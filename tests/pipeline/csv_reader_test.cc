#include "pipeline/csv_reader.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace fieldloop::pipeline {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(CsvReader, SplitsPlainRowsAndNumbersTheirLines) {
  CsvTable t = SplitCsv("a,b,c\n1,2,3\n");
  ASSERT_TRUE(t.status.ok()) << t.status;
  ASSERT_EQ(t.rows.size(), 2u);
  EXPECT_EQ(t.rows[0].line, 1);
  EXPECT_THAT(t.rows[0].fields, ElementsAre("a", "b", "c"));
  EXPECT_EQ(t.rows[1].line, 2);
  EXPECT_THAT(t.rows[1].fields, ElementsAre("1", "2", "3"));
}

TEST(CsvReader, QuotedCellsHoldCommasNewlinesAndDoubledQuotes) {
  CsvTable t = SplitCsv("k,v\nx,\"a, b\"\ny,\"two\nlines\"\nz,\"say \"\"hi\"\"\"\nw,end\n");
  ASSERT_TRUE(t.status.ok()) << t.status;
  ASSERT_EQ(t.rows.size(), 5u);
  EXPECT_THAT(t.rows[1].fields, ElementsAre("x", "a, b"));
  EXPECT_THAT(t.rows[2].fields, ElementsAre("y", "two\nlines"));
  EXPECT_EQ(t.rows[2].line, 3);
  EXPECT_THAT(t.rows[3].fields, ElementsAre("z", "say \"hi\""));
  EXPECT_EQ(t.rows[3].line, 5);  // The newline inside row 3 counts.
  EXPECT_EQ(t.rows[4].line, 6);
}

TEST(CsvReader, CrlfEndsRowsAndIsKeptInsideQuotes) {
  CsvTable t = SplitCsv("a,b\r\n1,\"x\r\ny\"\r\n2,3");
  ASSERT_TRUE(t.status.ok()) << t.status;
  ASSERT_EQ(t.rows.size(), 3u);
  EXPECT_THAT(t.rows[0].fields, ElementsAre("a", "b"));
  EXPECT_THAT(t.rows[1].fields, ElementsAre("1", "x\r\ny"));
  EXPECT_THAT(t.rows[2].fields, ElementsAre("2", "3"));  // No line end after the last row.
  EXPECT_EQ(t.rows[2].line, 4);
}

TEST(CsvReader, DropsLeadingUtf8ByteOrderMark) {
  CsvTable t = SplitCsv("\xEF\xBB\xBFtask_key,status\r\nk,done\r\n");
  ASSERT_TRUE(t.status.ok()) << t.status;
  ASSERT_EQ(t.rows.size(), 2u);
  EXPECT_THAT(t.rows[0].fields, ElementsAre("task_key", "status"));
  EXPECT_EQ(t.rows[0].line, 1);
  EXPECT_EQ(t.rows[1].line, 2);
}

TEST(CsvReader, KeepsAByteOrderMarkThatIsNotAtTheStart) {
  const std::string bom = "\xEF\xBB\xBF";
  CsvTable t = SplitCsv("a\n" + bom + "b\n");
  ASSERT_EQ(t.rows.size(), 2u);
  EXPECT_THAT(t.rows[1].fields, ElementsAre(bom + "b"));
}

TEST(CsvReader, SkipsBlankLinesButCountsThem) {
  CsvTable t = SplitCsv("a\n\n   \r\nb\n,\n");
  ASSERT_TRUE(t.status.ok()) << t.status;
  ASSERT_EQ(t.rows.size(), 3u);
  EXPECT_EQ(t.rows[1].line, 4);
  EXPECT_THAT(t.rows[1].fields, ElementsAre("b"));
  EXPECT_THAT(t.rows[2].fields, ElementsAre("", ""));  // Empty cells are not a blank line.
}

TEST(CsvReader, KeepsSpacesAndMidCellQuotes) {
  CsvTable t = SplitCsv(" a ,b\"c\n");
  ASSERT_EQ(t.rows.size(), 1u);
  EXPECT_THAT(t.rows[0].fields, ElementsAre(" a ", "b\"c"));
}

TEST(CsvReader, UnterminatedQuoteIsInvalidArgumentNamingTheRowStart) {
  CsvTable t = SplitCsv("a,b\n1,2\n3,\"open\nstill open\n");
  EXPECT_EQ(t.status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(t.status.message(), HasSubstr("line 3: unterminated quoted field"));
  ASSERT_EQ(t.rows.size(), 3u);  // Rows up to and including the open one are kept.
  EXPECT_THAT(t.rows[1].fields, ElementsAre("1", "2"));
}

}  // namespace
}  // namespace fieldloop::pipeline
