#include "pipeline/labeled_texts.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace fieldloop::pipeline {
namespace {

TEST(LabeledTexts, ParsesLinesInOrderWithStringOrNumericLabels) {
  auto docs = ParseLabeledTexts(
      "{\"id\": \"1\", \"text\": \"price high\", \"label\": \"65\"}\r\n\n"
      "{\"id\": \"2\", \"text\": \"soc2\", \"label\": 7}\n",
      /*require_label=*/true);
  ASSERT_TRUE(docs.ok()) << docs.status();
  ASSERT_EQ(docs->size(), 2u);
  EXPECT_EQ((*docs)[0].text, "price high");
  EXPECT_EQ((*docs)[0].label, "65");
  EXPECT_EQ((*docs)[1].id, "2");
  EXPECT_EQ((*docs)[1].label, "7");
}

TEST(LabeledTexts, ErrorsNameTheLine) {
  auto bad = ParseLabeledTexts("{\"text\": \"a\", \"label\": \"x\"}\nnot json\n", true);
  EXPECT_THAT(bad.status().message(), ::testing::HasSubstr("line 2: not a JSON object"));
  auto unlabeled = ParseLabeledTexts("{\"text\": \"a\"}\n", true);
  EXPECT_THAT(unlabeled.status().message(), ::testing::HasSubstr("line 1: needs"));
  EXPECT_TRUE(ParseLabeledTexts("{\"text\": \"a\"}\n", false).ok());
}

}  // namespace
}  // namespace fieldloop::pipeline
