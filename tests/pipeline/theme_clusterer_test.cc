#include "pipeline/theme_clusterer.h"

#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "gtest/gtest.h"

namespace fieldloop::pipeline {
namespace {

ThemeId Add(ThemeClusterer& c, const std::string& words) {
  std::vector<TermId> ids;
  for (absl::string_view w : absl::StrSplit(words, ' ', absl::SkipEmpty()))
    ids.push_back(c.Intern(w));
  return c.Assign(ThemeClusterer::Count(ids));
}

TEST(ThemeClusterer, CountSortsAndSumsTerms) {
  EXPECT_EQ(ThemeClusterer::Count({5, 2, 5, 9, 2, 5}), (TermCounts{{2, 2}, {5, 3}, {9, 1}}));
}

TEST(ThemeClusterer, SimilarTextsShareAThemeAndDifferentOnesDoNot) {
  ThemeClusterer c;
  const ThemeId price = Add(c, "price too high discount");
  EXPECT_EQ(price, 0);
  EXPECT_EQ(Add(c, "price high discount competitor"), price);
  const ThemeId security = Add(c, "soc2 report security review");
  EXPECT_NE(security, price);
  EXPECT_EQ(Add(c, "security review soc2 questionnaire"), security);
  EXPECT_EQ(Add(c, "discount price high"), price);
  EXPECT_EQ(c.num_themes(), 2u);
  EXPECT_EQ(c.num_documents(), 5);
}

TEST(ThemeClusterer, EmptyDocumentJoinsNoTheme) {
  ThemeClusterer c;
  EXPECT_EQ(c.Assign({}), -1);
  EXPECT_EQ(c.num_documents(), 0);
  EXPECT_EQ(c.num_themes(), 0u);
}

TEST(ThemeClusterer, SameInputsInSameOrderGiveSameThemes) {
  const std::vector<std::string> docs = {
      "price high",          "soc2 security",       "price discount",
      "security gdpr",       "hubspot integration", "salesforce integration",
      "discount high price", "gdpr residency",      "integration api"};
  std::vector<ThemeId> first, second;
  ThemeClusterer a, b;
  for (const auto& d : docs) first.push_back(Add(a, d));
  for (const auto& d : docs) second.push_back(Add(b, d));
  EXPECT_EQ(first, second);
}

TEST(ThemeClusterer, MoreNewThemeWeightGivesAtLeastAsManyThemes) {
  const std::vector<std::string> docs = {"a b", "a c", "b c", "c d", "d e", "e f", "f a"};
  ThemeClusterer few(ClustererOptions{.alpha = 0.001, .beta = 0.02});
  ThemeClusterer many(ClustererOptions{.alpha = 100, .beta = 0.02});
  for (const auto& d : docs) {
    Add(few, d);
    Add(many, d);
  }
  EXPECT_LT(few.num_themes(), many.num_themes());
}

}  // namespace
}  // namespace fieldloop::pipeline
