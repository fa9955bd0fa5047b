#include "pipeline/theme_book.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace fieldloop::pipeline {
namespace {

using ::testing::ElementsAre;
using ::testing::Pair;

class ThemeBookTest : public ::testing::Test {
 protected:
  // Normalizes, clusters and books one feedback text; returns its theme.
  ThemeId Feed(const std::string& id, const std::string& text, const std::string& region,
               int64_t when, DocumentFacts facts = {}) {
    std::vector<Term> terms = normalizer_.Normalize(text);
    TermCounts counts = clusterer_.InternAndCount(terms);
    const ThemeId theme = clusterer_.Assign(counts);
    facts.record_id = id;
    facts.text = text;
    facts.region = region;
    facts.segment = "SMB";
    if (facts.source.empty()) facts.source = "call";
    facts.unix_seconds = when;
    book_.Add(theme, facts, terms, clusterer_.Closeness(theme, counts));
    return theme;
  }

  TextNormalizer normalizer_;
  // Threshold 0: texts sharing a term share a theme, so the book is tested on known groups
  // even on a four-document corpus (where idf says little).
  ThemeClusterer clusterer_{ClustererOptions{.create_threshold = 0, .merge_interval = 0}};
  ThemeBook book_;
};

TEST(QuarterOf, UsesUtcCalendarQuarters) {
  EXPECT_EQ(QuarterOf(1788264000), "2026-Q3");  // 2026-09-01.
  EXPECT_EQ(QuarterOf(1767225599), "2025-Q4");  // 2025-12-31T23:59:59Z.
  EXPECT_EQ(QuarterOf(1767225600), "2026-Q1");  // 2026-01-01T00:00:00Z.
}

TEST_F(ThemeBookTest, LabelUsesReadableSurfaceFormsOfDistinctiveTerms) {
  Feed("a", "Pricing is too high compared to Acme", "NA", 1788264000);
  Feed("b", "pricing too high, they want a discount", "EMEA", 1788264100);
  Feed("c", "Discount pricing needed, price too high", "NA", 1788264200);
  Feed("z", "SOC2 security questionnaire slows legal review", "EMEA", 1788264300);
  ThemeSummary s = book_.Summarize(0, clusterer_);
  EXPECT_EQ(s.mentions, 3);
  // Stems are "price", "high", "discount"; the label shows the words people wrote.
  EXPECT_THAT(s.label, ::testing::HasSubstr("pricing"));
  EXPECT_THAT(s.label, ::testing::Not(::testing::HasSubstr("soc2")));
  EXPECT_THAT(s.by_region, ElementsAre(Pair("EMEA", 1), Pair("NA", 2)));
  EXPECT_THAT(s.by_quarter, ElementsAre(Pair("2026-Q3", 3)));
  EXPECT_EQ(s.first_seen, 1788264000);
  EXPECT_EQ(s.last_seen, 1788264200);
  EXPECT_EQ(book_.DisplayForm("price"), "pricing");
}

TEST_F(ThemeBookTest, KeepsTheFiveClosestQuotesNotTheFirstFive) {
  ThemeBook book;
  DocumentFacts f;
  for (int i = 0; i < 8; ++i) {
    f.record_id = "r" + std::to_string(i);
    f.text = "t";
    book.Add(0, f, {}, /*closeness=*/i % 2 == 0 ? 0.1 : 0.9 - i * 0.01);
  }
  ThemeSummary s = book.Summarize(0, clusterer_);
  std::vector<std::string> ids;
  for (const Quote& q : s.quotes) ids.push_back(q.record_id);
  EXPECT_THAT(ids, ElementsAre("r1", "r3", "r5", "r7", "r0"));
}

TEST_F(ThemeBookTest, WinLossFiguresCountEachDealOnce) {
  ThemeBook book;
  DocumentFacts lost{.from_win_loss = true,
                     .outcome = "lost",
                     .deal_id = "d1",
                     .amount = 100,
                     .competitors = {"Acme CRM"}};
  book.Add(0, lost, {}, 0.5);
  book.Add(0, lost, {}, 0.5);  // Second objection of the same deal.
  DocumentFacts won{.from_win_loss = true,
                    .outcome = "won",
                    .deal_id = "d2",
                    .amount = 50,
                    .competitors = {"Acme CRM", "Globex"}};
  book.Add(0, won, {}, 0.5);
  ThemeSummary s = book.Summarize(0, clusterer_);
  EXPECT_EQ(s.objections, 3);
  EXPECT_EQ(s.lost_deals, 1);
  EXPECT_EQ(s.won_deals, 1);
  EXPECT_DOUBLE_EQ(s.amount_at_stake, 100);
  EXPECT_THAT(s.competitors, ElementsAre(Pair("Acme CRM", 3), Pair("Globex", 1)));
}

TEST_F(ThemeBookTest, UnknownThemeGivesAnEmptySummary) {
  EXPECT_EQ(book_.Summarize(42, clusterer_).id, -1);
}

TEST(ThemeBook, QuotesAreCutAtACodePointBoundary) {
  EXPECT_EQ(CutQuote("short"), "short");
  const std::string exact(kMaxQuoteCodePoints, 'a');
  EXPECT_EQ(CutQuote(exact), exact);
  // 400 two-byte code points: cut to kMaxQuoteCodePoints of them, never inside one.
  std::string long_text;
  for (int i = 0; i < 400; ++i) long_text += "\u00e9";
  const std::string cut = CutQuote(long_text);
  EXPECT_EQ(cut.size(), 2 * kMaxQuoteCodePoints + 3);  // "…" is 3 bytes.
  EXPECT_EQ(cut.substr(cut.size() - 3), "\u2026");
  EXPECT_EQ(cut.substr(0, 2), "\u00e9");
}

}  // namespace
}  // namespace fieldloop::pipeline
