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

TEST(ThemeClusterer, AHigherCreateThresholdGivesMoreThemes) {
  const std::vector<std::string> docs = {"a b", "a c", "b c", "c d", "d e", "e f", "f a"};
  ThemeClusterer few(ClustererOptions{.create_threshold = 0.01, .merge_interval = 0});
  ThemeClusterer many(ClustererOptions{.create_threshold = 0.9, .merge_interval = 0});
  for (const auto& d : docs) {
    Add(few, d);
    Add(many, d);
  }
  EXPECT_LT(few.num_themes(), many.num_themes());
}

}  // namespace
}  // namespace fieldloop::pipeline

namespace fieldloop::pipeline {
namespace {

ThemeId AddTagged(ThemeClusterer& c, const std::string& words, const std::string& tag) {
  std::vector<TermId> ids;
  for (absl::string_view w : absl::StrSplit(words, ' ', absl::SkipEmpty()))
    ids.push_back(c.Intern(w));
  return c.AssignTagged(ThemeClusterer::Count(ids), tag);
}

TEST(ThemeClusterer, ManualTagCreatesAThemeThatTeachesLaterTexts) {
  ThemeClusterer c;
  const ThemeId tagged = AddTagged(c, "monthly billing invoice", "billing-terms");
  EXPECT_EQ(c.TagOf(tagged), "billing-terms");
  EXPECT_EQ(AddTagged(c, "annual contract", "billing-terms"), tagged);  // Same tag, same theme.
  EXPECT_EQ(Add(c, "monthly billing please"), tagged);                  // Learned from tags.
  EXPECT_NE(Add(c, "soc2 report security"), tagged);
}

TEST(ThemeClusterer, NearDuplicateThemesMergeAndOldIdsResolve) {
  // Two themes with the same terms arise when a tagged theme and an untagged one grow on
  // the same words; the merge check joins them into the tagged one.
  ThemeClusterer c(ClustererOptions{.merge_interval = 4, .merge_threshold = 0.8});
  const ThemeId untagged = Add(c, "price high discount");
  Add(c, "price high discount");
  const ThemeId tagged = AddTagged(c, "price high discount", "pricing");
  ASSERT_NE(untagged, tagged);
  EXPECT_EQ(c.num_themes(), 2u);
  const ThemeId security = Add(c, "soc2 security review");  // Fourth document: merge check.
  EXPECT_EQ(c.num_themes(), 2u);                            // pricing + security.
  EXPECT_EQ(c.Resolve(untagged), tagged);
  EXPECT_EQ(c.Resolve(tagged), tagged);
  const std::vector<std::pair<ThemeId, ThemeId>> merges = c.TakeMerges();
  ASSERT_EQ(merges.size(), 1u);
  EXPECT_EQ(merges[0], std::make_pair(untagged, tagged));
  EXPECT_TRUE(c.TakeMerges().empty());  // Each merge is reported once.
  EXPECT_EQ(c.DocumentsIn(tagged), 3);
  EXPECT_EQ(c.DocumentsIn(untagged), 0);
  // Ids are never reused: the next new theme gets a fresh id.
  const ThemeId fresh = Add(c, "hubspot integration missing");
  EXPECT_GT(fresh, tagged);
  EXPECT_EQ(c.Resolve(999), -1);
  EXPECT_EQ(c.LiveThemes(), (std::vector<ThemeId>{tagged, security, fresh}));
}

TEST(ThemeClusterer, TwoTaggedThemesNeverMerge) {
  ThemeClusterer c(ClustererOptions{.merge_interval = 1, .merge_threshold = 0.1});
  const ThemeId a = AddTagged(c, "price high", "a");
  const ThemeId b = AddTagged(c, "price high", "b");
  Add(c, "other words entirely");
  EXPECT_EQ(c.Resolve(a), a);
  EXPECT_EQ(c.Resolve(b), b);
}

TEST(ThemeClusterer, TermStatisticsPerThemeAreBounded) {
  ThemeClusterer c(
      ClustererOptions{.create_threshold = 0, .merge_interval = 0, .max_terms_per_theme = 8});
  // One theme (threshold 0 keeps everything sharing a term together) fed 200 distinct terms.
  std::string words = "common";
  for (int i = 0; i < 200; ++i) {
    Add(c, "common shared w" + std::to_string(i));
  }
  ASSERT_EQ(c.num_themes(), 1u);
  // The kept terms are the most frequent ones.
  std::vector<std::pair<std::string, double>> top = c.TopTerms(0, 100);
  EXPECT_LE(top.size(), 8u);
  ASSERT_GE(top.size(), 2u);
  EXPECT_TRUE((top[0].first == "common" && top[1].first == "shared") ||
              (top[0].first == "shared" && top[1].first == "common"));
}

TEST(ThemeClusterer, FadingPrefersTheThemeThatGrewLast) {
  // Two themes of equal size and equal similarity to the probe: without fading the tie goes
  // to the lower id; with fading, to the theme that grew most recently.
  auto run = [](double half_life) {
    ThemeClusterer c(ClustererOptions{.merge_interval = 0, .fade_half_life = half_life});
    for (int i = 0; i < 20; ++i) Add(c, "alpha beta");
    for (int i = 0; i < 20; ++i) Add(c, "gamma delta");
    return Add(c, "alpha gamma");
  };
  EXPECT_EQ(run(0), 0);
  EXPECT_EQ(run(5), 1);
}

}  // namespace
}  // namespace fieldloop::pipeline
