// Theme succession: which rebuilt theme each old theme id lives on as after records are
// forgotten (pipeline/theme_succession.h), and the retired ids and aliases it rests on
// (ThemeClusterer::Retire, ThemeClusterer::Alias).
#include "pipeline/theme_succession.h"

#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "gtest/gtest.h"

namespace fieldloop::pipeline {
namespace {

// Assigns `words` to the theme of `tag`; returns the theme.
ThemeId AddTagged(ThemeClusterer& c, const std::string& tag, const std::string& words) {
  std::vector<TermId> ids;
  for (absl::string_view w : absl::StrSplit(words, ' ', absl::SkipEmpty())) {
    ids.push_back(c.Intern(w));
  }
  return c.AssignTagged(ThemeClusterer::Count(ids), tag);
}

struct Doc {
  std::string tag, words;
  bool forgotten = false;
};

// Three tagged themes; the only document of "walrus" (theme 0) is forgotten.
const std::vector<Doc> kDocs = {
    {"walrus", "walrus rollout checklist", true}, {"pricing", "price too high discount"},
    {"security", "soc2 report security review"},  {"pricing", "discount price competitor"},
    {"security", "security questionnaire soc2"},
};

// The old model, its replica, the rebuilt model (old ids retired) and the document pairs,
// as ThemeApplier::RemoveRecords makes them.
struct Rebuild {
  ThemeClusterer old, replica, rebuilt;
  std::vector<DocumentThemes> documents;

  explicit Rebuild(const std::vector<Doc>& docs) {
    for (const Doc& d : docs) AddTagged(old, d.tag, d.words);
    rebuilt.Retire(old.num_ids());
    for (const Doc& d : docs) {
      const ThemeId was = AddTagged(replica, d.tag, d.words);
      if (!d.forgotten) documents.emplace_back(was, AddTagged(rebuilt, d.tag, d.words));
    }
  }
};

TEST(ThemeSuccession, EachOldThemeLivesOnAsItsRebuiltThemeAndAForgottenOneAsNothing) {
  Rebuild r(kDocs);
  ASSERT_EQ(r.old.LiveThemes(), (std::vector<ThemeId>{0, 1, 2}));
  // Rebuilt ids start above every old one.
  ASSERT_EQ(r.rebuilt.LiveThemes(), (std::vector<ThemeId>{3, 4}));
  absl::StatusOr<std::map<ThemeId, ThemeId>> heirs =
      SuccessorThemes(r.old, r.replica, r.rebuilt, r.documents);
  ASSERT_TRUE(heirs.ok()) << heirs.status();
  EXPECT_EQ(*heirs, (std::map<ThemeId, ThemeId>{{1, 3}, {2, 4}}));

  for (const auto& [id, into] : *heirs) r.rebuilt.Alias(id, into);
  EXPECT_EQ(r.rebuilt.Resolve(0), -1);
  EXPECT_EQ(r.rebuilt.Resolve(1), 3);
  EXPECT_EQ(r.rebuilt.Resolve(2), 4);
  EXPECT_EQ(r.rebuilt.TagOf(r.rebuilt.Resolve(1)), "pricing");
  EXPECT_EQ(r.rebuilt.LiveThemes(), (std::vector<ThemeId>{3, 4}));

  // The aliases are stored with the themes: an import resolves them the same way.
  std::vector<ThemeId> themes;
  std::vector<TermId> terms;
  r.rebuilt.TakeChanged(&themes, &terms);
  EXPECT_EQ(themes, (std::vector<ThemeId>{1, 2, 3, 4}));  // Not the retired 0.
  state::ClustererGlobals globals;
  r.rebuilt.ExportGlobals(&globals);
  ThemeClusterer imported;
  imported.ImportGlobals(globals);
  for (TermId t : terms) {
    state::TermState s;
    r.rebuilt.ExportTerm(t, &s);
    imported.ImportTerm(s);
  }
  for (ThemeId z : themes) {
    state::ThemeState s;
    r.rebuilt.ExportTheme(z, &s);
    imported.ImportTheme(s);
  }
  for (ThemeId z = 0; z < 6; ++z) EXPECT_EQ(imported.Resolve(z), r.rebuilt.Resolve(z)) << z;
  EXPECT_EQ(imported.LiveThemes(), (std::vector<ThemeId>{3, 4}));
}

TEST(ThemeSuccession, MostDocumentsLeftWinAndTiesGoToTheLowestId) {
  Rebuild r(kDocs);
  // Pricing (old 1): two documents in 4, one in 3. Security (old 2): one in each.
  const std::vector<DocumentThemes> documents = {{1, 4}, {1, 3}, {1, 4}, {2, 4}, {2, 3}};
  absl::StatusOr<std::map<ThemeId, ThemeId>> heirs =
      SuccessorThemes(r.old, r.replica, r.rebuilt, documents);
  ASSERT_TRUE(heirs.ok()) << heirs.status();
  EXPECT_EQ(*heirs, (std::map<ThemeId, ThemeId>{{1, 4}, {2, 3}}));
}

TEST(ThemeSuccession, AReplicaThatIsNotTheOldModelMapsNothing) {
  Rebuild r(kDocs);
  ThemeClusterer other;  // Tags met in another order: other ids.
  AddTagged(other, "security", "soc2 report security review");
  AddTagged(other, "walrus", "walrus rollout checklist");
  AddTagged(other, "pricing", "price too high discount");
  absl::StatusOr<std::map<ThemeId, ThemeId>> heirs =
      SuccessorThemes(r.old, other, r.rebuilt, r.documents);
  EXPECT_EQ(heirs.status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST(ThemeSuccession, ASecondRebuildCarriesIdsOfTheFirstAlong) {
  Rebuild first(kDocs);
  auto heirs = SuccessorThemes(first.old, first.replica, first.rebuilt, first.documents);
  ASSERT_TRUE(heirs.ok());
  for (const auto& [id, into] : *heirs) first.rebuilt.Alias(id, into);
  // Now the first pricing document is forgotten too. The replica of the rebuilt model is a
  // plain replay of its records: its ids are the rebuilt ones shifted down by 3.
  ThemeClusterer replica, rebuilt;
  rebuilt.Retire(first.rebuilt.num_ids());
  std::vector<DocumentThemes> documents;
  for (size_t i = 1; i < kDocs.size(); ++i) {
    const ThemeId was = AddTagged(replica, kDocs[i].tag, kDocs[i].words);
    if (i != 1) documents.emplace_back(was, AddTagged(rebuilt, kDocs[i].tag, kDocs[i].words));
  }
  auto second = SuccessorThemes(first.rebuilt, replica, rebuilt, documents);
  ASSERT_TRUE(second.ok()) << second.status();
  // Old 1 and 3 (pricing) and 2 and 4 (security) follow their themes to 6 and 5.
  EXPECT_EQ(*second, (std::map<ThemeId, ThemeId>{{1, 6}, {2, 5}, {3, 6}, {4, 5}}));
}

}  // namespace
}  // namespace fieldloop::pipeline
