#include "pipeline/text_normalizer.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace fieldloop::pipeline {
namespace {

using ::testing::ElementsAre;

std::vector<std::string> Stems(const std::vector<Term>& terms) {
  std::vector<std::string> out;
  for (const Term& t : terms) out.push_back(t.stem);
  return out;
}
std::vector<std::string> Surfaces(const std::vector<Term>& terms) {
  std::vector<std::string> out;
  for (const Term& t : terms) out.push_back(t.surface);
  return out;
}

TEST(TextNormalizer, FoldsCaseAndAccentsAndStems) {
  TextNormalizer n;
  std::vector<Term> t = n.Normalize("Zoë's team was COMPARING Pricing with Müller");
  EXPECT_THAT(Surfaces(t), ElementsAre("zoe", "team", "comparing", "pricing", "muller"));
  EXPECT_THAT(Stems(t), ElementsAre("zoe", "team", "compar", "price", "muller"));
}

TEST(TextNormalizer, ApostrophesHyphensAndPunctuation) {
  TextNormalizer n;
  EXPECT_THAT(Surfaces(n.Normalize("Buyer's follow-up: they don't trust the roll-out!!!")),
              ElementsAre("buyer", "follow", "trust", "roll"));
  // "up", "they", "dont", "the", "out" are stop words.
  EXPECT_THAT(Surfaces(n.Normalize("won’t budge… (re-quote)")),
              ElementsAre("budge", "re", "quote"));
}

TEST(TextNormalizer, NumbersKeepShortOnesAndMixedTokens) {
  TextNormalizer n;
  EXPECT_THAT(Surfaces(n.Normalize("SOC2 report for Q3 2026, ticket 1234567, 40% off")),
              ElementsAre("soc2", "report", "q3", "2026", "ticket", "40"));
}

TEST(TextNormalizer, FullWidthAndCompatibilityFormsAreNormalized) {
  TextNormalizer n;
  EXPECT_THAT(Surfaces(n.Normalize("ＡＰＩ ﬁles")), ElementsAre("api", "files"));
}

TEST(TextNormalizer, InvalidUtf8IsSkipped) {
  TextNormalizer n;
  EXPECT_THAT(Surfaces(n.Normalize(std::string("price\xff\xfe too high"))),
              ElementsAre("price", "high"));
}

TEST(TextNormalizer, BigramsJoinAdjacentKeptStems) {
  TextNormalizer n(NormalizerOptions{.bigrams = true});
  std::vector<Term> t = n.Normalize("data residency in the EU");
  EXPECT_THAT(Stems(t), ElementsAre("data", "resid", "eu", "data_resid", "resid_eu"));
  EXPECT_EQ(t[3].surface, "data residency");
}

TEST(TextNormalizer, EmptyAndStopWordOnlyTextsGiveNoTerms) {
  TextNormalizer n;
  EXPECT_TRUE(n.Normalize("").empty());
  EXPECT_TRUE(n.Normalize("and the of it, is").empty());
}

}  // namespace
}  // namespace fieldloop::pipeline
