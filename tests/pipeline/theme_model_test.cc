#include "pipeline/theme_model.h"

#include <fstream>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "tests/testing/example_records.h"

namespace fieldloop::pipeline {
namespace {

using fieldloop::v1::IngestRequest;

// Everything a model would store, serialized deterministically, for comparison.
std::string Snapshot(ThemeModel& model) {
  ThemeModel::Changes c = model.TakeChanges();
  std::string out;
  for (const auto& t : c.themes) out += t.SerializeAsString();
  for (const auto& t : c.terms) out += t.SerializeAsString();
  return out + c.globals.SerializeAsString();
}

TEST(ThemeModel, ExampleInitiativeGivesReadableThemes) {
  ThemeModel model;
  for (const IngestRequest& r : testing::ExampleRecords()) model.Apply(r);
  std::vector<ThemeSummary> themes = model.Summaries();
  ASSERT_GE(themes.size(), 5u);
  int64_t mentions = 0;
  for (const ThemeSummary& s : themes) {
    mentions += s.mentions;
    EXPECT_FALSE(s.label.empty());
    EXPECT_LE(s.quotes.size(), ThemeBook::kMaxQuotes);
  }
  EXPECT_GT(mentions, 300);
}

TEST(ThemeModel, ExportImportRoundTripContinuesExactly) {
  const std::vector<IngestRequest> records = testing::ExampleRecords();
  const size_t half = records.size() / 2;
  ThemeModel straight;
  ThemeModel first_half;
  std::vector<state::ThemeState> themes;
  std::vector<state::TermState> terms;
  state::ClustererGlobals globals;
  for (size_t i = 0; i < half; ++i) {
    straight.Apply(records[i]);
    first_half.Apply(records[i]);
    // Export in several steps, as the applier does per batch; later states win.
    if (i % 50 == 49 || i + 1 == half) {
      ThemeModel::Changes c = first_half.TakeChanges();
      for (auto& t : c.themes) themes.push_back(t);
      for (auto& t : c.terms) terms.push_back(t);
      globals = c.globals;
    }
  }
  // Keep only the latest state per id, as a key-value store would.
  std::map<int64_t, state::ThemeState> latest_themes;
  for (auto& t : themes) latest_themes[t.id()] = t;
  std::map<int32_t, state::TermState> latest_terms;
  for (auto& t : terms) latest_terms[t.term()] = t;
  std::vector<state::ThemeState> theme_list;
  for (auto& [id, t] : latest_themes) theme_list.push_back(t);
  std::vector<state::TermState> term_list;
  for (auto& [id, t] : latest_terms) term_list.push_back(t);

  ThemeModel restored;
  restored.Import(globals, term_list, theme_list);
  for (size_t i = half; i < records.size(); ++i) {
    EXPECT_EQ(straight.Apply(records[i]), restored.Apply(records[i])) << "record " << i;
  }
  std::vector<ThemeSummary> a = straight.Summaries();
  std::vector<ThemeSummary> b = restored.Summaries();
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].id, b[i].id);
    EXPECT_EQ(a[i].label, b[i].label);
    EXPECT_EQ(a[i].mentions, b[i].mentions);
    EXPECT_EQ(a[i].by_region, b[i].by_region);
    EXPECT_EQ(a[i].quotes.size(), b[i].quotes.size());
    EXPECT_EQ(a[i].lost_deals, b[i].lost_deals);
  }
}

// CountInput over `records`: what a model that applied them must have counted.
state::InputCounts Counted(const std::vector<IngestRequest>& records) {
  state::InputCounts counts;
  for (const IngestRequest& r : records) CountInput(r, &counts);
  return counts;
}

TEST(ThemeModel, InputCountsAreExportedAndContinueAfterImport) {
  const std::vector<IngestRequest> records = testing::AllExampleRecords();
  const size_t half = records.size() / 2;
  ThemeModel first;
  for (size_t i = 0; i < half; ++i) first.Apply(records[i]);
  const ThemeModel::Changes changes = first.TakeChanges();
  const std::vector<IngestRequest> first_half(records.begin(), records.begin() + half);
  ASSERT_TRUE(changes.globals.has_inputs());
  EXPECT_EQ(changes.globals.inputs().SerializeAsString(), Counted(first_half).SerializeAsString());
  EXPECT_GT(changes.globals.inputs().feedback_events(), 0);
  EXPECT_GT(changes.globals.inputs().regions_size(), 1);

  ThemeModel restored;
  restored.Import(changes.globals, changes.terms, changes.themes);
  for (size_t i = half; i < records.size(); ++i) restored.Apply(records[i]);
  ASSERT_NE(restored.inputs(), nullptr);
  EXPECT_EQ(restored.inputs()->SerializeAsString(), Counted(records).SerializeAsString());
  EXPECT_EQ(restored.TakeChanges().globals.inputs().SerializeAsString(),
            Counted(records).SerializeAsString());
}

TEST(ThemeModel, StateWithoutInputCountsImportsThemAsUnknownUntilSet) {
  const std::vector<IngestRequest> records = testing::AllExampleRecords();
  ThemeModel first;
  for (const IngestRequest& r : records) first.Apply(r);
  ThemeModel::Changes changes = first.TakeChanges();
  changes.globals.clear_inputs();  // As a build that kept no counts wrote it.

  ThemeModel restored;
  restored.Import(changes.globals, changes.terms, changes.themes);
  EXPECT_EQ(restored.inputs(), nullptr);
  restored.Apply(records[0]);
  EXPECT_EQ(restored.inputs(), nullptr);
  EXPECT_FALSE(restored.TakeChanges().globals.has_inputs());  // Unknown is not stored as 0.

  restored.SetInputs(Counted(records));
  restored.Apply(records[1]);
  std::vector<IngestRequest> all = records;
  all.push_back(records[1]);
  ASSERT_NE(restored.inputs(), nullptr);
  EXPECT_EQ(restored.inputs()->SerializeAsString(), Counted(all).SerializeAsString());
  EXPECT_TRUE(restored.TakeChanges().globals.has_inputs());
}

TEST(ThemeModel, SameRecordsInSameOrderGiveTheSameState) {
  const std::vector<IngestRequest> records = testing::ExampleRecords();
  ThemeModel a, b;
  for (const IngestRequest& r : records) {
    a.Apply(r);
    b.Apply(r);
  }
  EXPECT_EQ(Snapshot(a), Snapshot(b));
}

TEST(ThemeModel, TranscriptKeepsBuyerSentencesAndRepSentencesReportingANeed) {
  IngestRequest r;
  auto* t = r.mutable_call_transcript();
  t->set_id("tr-1");
  auto add = [&](fieldloop::v1::Speaker s, const std::string& text) {
    auto* u = t->add_utterances();
    u->set_speaker(s);
    u->set_text(text);
  };
  add(fieldloop::v1::SPEAKER_REP, "Great to see you. How was the weekend?");
  add(fieldloop::v1::SPEAKER_BUYER, "Fine. Your pricing is well above Acme CRM! Can you match it?");
  add(fieldloop::v1::SPEAKER_REP, "Understood. Last week they asked for a SOC2 report too.");
  add(fieldloop::v1::SPEAKER_OTHER, "I can send the security pack today.");
  std::vector<DocumentFacts> docs = DocumentsOf(r);
  std::vector<std::string> texts;
  for (const auto& d : docs) texts.push_back(d.text);
  EXPECT_THAT(texts, ::testing::ElementsAre("Fine.", "Your pricing is well above Acme CRM!",
                                            "Can you match it?",
                                            "Last week they asked for a SOC2 report too."));
  // "Fine." and "Can you match it?" have fewer than three terms: no theme.
  ThemeModel model;
  EXPECT_EQ(model.Apply(r).size(), 2u);
}

TEST(ThemeModel, FramingClauseOfAFeedbackNoteIsFound) {
  ThemeModel model;
  auto body = [&](const std::string& text) { return text.substr(model.FramingEnd(text)); };
  // Channels, occasions, reporting verbs, names and channels are framing.
  EXPECT_EQ(body("Call notes: buyer wants SOC 2."), "buyer wants SOC 2.");
  EXPECT_EQ(body("Ride-along with Ana Diaz: price again."), "price again.");
  EXPECT_EQ(body("Rode along on the Redwood Dental meeting. Price again."), "Price again.");
  EXPECT_EQ(body("From Slack (#deal-desk): price again."), "price again.");
  EXPECT_EQ(body("Redwood Dental call - price again."), "price again.");
  EXPECT_EQ(body("Raised in today's cert session: price again."), "price again.");
  // A clause with a word that is none of these is what was heard: kept whole.
  EXPECT_EQ(model.FramingEnd("Pricing came up: buyer wants 20% off."), 0u);
  EXPECT_EQ(model.FramingEnd("Data migration took longer than the sales cycle. Buyer left."), 0u);
  // Every sentence starts with a capital: a first word is a name only before another
  // capitalized word.
  EXPECT_EQ(model.FramingEnd("Salesforce call. Buyer wants two-way sync."), 0u);
  EXPECT_EQ(body("Nordhavn Shipping call. Buyer wants two-way sync."), "Buyer wants two-way sync.");
  // Only the first separator counts, the clause has at most eight words, and a clause
  // with no framing word (only names) or with nothing after it is kept.
  EXPECT_EQ(model.FramingEnd("Buyer wants sync: call notes: more."), 0u);
  EXPECT_EQ(model.FramingEnd("Call with the team of the one in the middle of it: more."), 0u);
  EXPECT_EQ(model.FramingEnd("Redwood Dental: price again."), 0u);
  EXPECT_EQ(model.FramingEnd("Call notes: "), 0u);
}

TEST(ThemeModel, FramingClauseIsQuotedButNotClustered) {
  // Two notes with the same framing and nothing else in common stay apart, and the quote
  // keeps the whole text.
  ThemeModel model;
  IngestRequest a, b;
  a.mutable_feedback_event()->set_id("fb-1");
  a.mutable_feedback_event()->set_text("Quick one from a demo: buyer wants monthly billing.");
  b.mutable_feedback_event()->set_id("fb-2");
  b.mutable_feedback_event()->set_text("Quick one from a demo: security questionnaire overdue.");
  const std::vector<ThemeId> ta = model.Apply(a), tb = model.Apply(b);
  ASSERT_EQ(ta.size(), 1u);
  ASSERT_EQ(tb.size(), 1u);
  EXPECT_NE(ta[0], tb[0]);
  EXPECT_EQ(model.Summaries()[0].quotes[0].text,
            "Quick one from a demo: buyer wants monthly billing.");
}

TEST(ThemeModel, TaggedFeedbackIsLabelledWithItsTag) {
  IngestRequest r;
  auto* e = r.mutable_feedback_event();
  e->set_id("fb-1");
  e->set_source(fieldloop::v1::SOURCE_CALL);
  e->set_text("Buyers want monthly billing instead of annual prepay");
  e->set_theme_tag("billing-terms");
  ThemeModel model;
  ASSERT_EQ(model.Apply(r).size(), 1u);
  std::vector<ThemeSummary> themes = model.Summaries();
  ASSERT_EQ(themes.size(), 1u);
  EXPECT_EQ(themes[0].label, "billing-terms");
  EXPECT_EQ(themes[0].quotes[0].record_id, "fb-1");
}

TEST(ThemeModel, WinLossObjectionsCarryTheDeal) {
  IngestRequest r;
  auto* w = r.mutable_win_loss_note();
  w->set_id("wl-1");
  w->set_deal_id("d-9");
  w->set_outcome(fieldloop::v1::OUTCOME_LOST);
  w->set_amount(120000);
  w->add_competitors("Acme CRM");
  w->add_objections("Price is too high compared to Acme");
  w->add_objections("No HubSpot integration");
  ThemeModel model;
  EXPECT_EQ(model.Apply(r).size(), 2u);
  int64_t lost = 0;
  double amount = 0;
  for (const ThemeSummary& s : model.Summaries()) {
    lost += s.lost_deals;
    amount += s.amount_at_stake;
    EXPECT_EQ(s.competitors.at("Acme CRM"), 1);
  }
  EXPECT_EQ(lost, 2);  // Each theme counts the deal once.
  EXPECT_DOUBLE_EQ(amount, 240000);
}

// A document whose arrival makes its own theme merge away is quoted with its closeness to
// the theme it ends up in (not 0, which would keep it from ever being a quote).
TEST(ThemeModel, QuoteOfADocumentWhoseThemeMergedAwayHasItsCloseness) {
  ModelOptions options;
  options.clusterer.merge_interval = 1;  // A merge check after every document.
  options.clusterer.merge_threshold = 0.2;
  ThemeModel model(options);
  auto feedback = [&](const std::string& id, const std::string& text) {
    IngestRequest r;
    auto* e = r.mutable_feedback_event();
    e->set_id(id);
    e->set_text(text);
    return model.Apply(r);
  };
  feedback("fb-1", "gamma delta");
  feedback("fb-2", "gamma delta");  // Theme 0: two documents.
  ASSERT_THAT(feedback("fb-3", "alpha beta"), ::testing::ElementsAre(1));
  // Joins theme 1, which then merges into the older theme 0 (equal sizes).
  ASSERT_THAT(feedback("fb-4", "alpha beta gamma"), ::testing::ElementsAre(0));
  const std::vector<ThemeSummary> summaries = model.Summaries();
  ASSERT_EQ(summaries.size(), 1u);
  bool quoted = false;
  for (const Quote& q : summaries[0].quotes) {
    if (q.record_id != "fb-4") continue;
    quoted = true;
    EXPECT_GT(q.closeness, 0.3) << "closeness to the merged-away theme";
  }
  EXPECT_TRUE(quoted);
}

}  // namespace
}  // namespace fieldloop::pipeline
