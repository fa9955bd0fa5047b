// ThemeBook: what fieldloop knows about each theme beyond the clusterer's statistics:
// readable labels, counts by region, segment, source and quarter, first and last seen,
// representative quotes and win/loss figures. Pure and deterministic: every output is
// ordered by a total order (count, then name), never by hash-map iteration.
#ifndef FIELDLOOP_PIPELINE_THEME_BOOK_H_
#define FIELDLOOP_PIPELINE_THEME_BOOK_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "pipeline/text_normalizer.h"
#include "pipeline/theme_clusterer.h"
#include "pipeline/theme_state.pb.h"

namespace fieldloop::pipeline {

// Facts about one document, as the ThemeBook needs them.
struct DocumentFacts {
  std::string record_id;
  std::string text;  // The quote, as it was said.
  std::string region;
  std::string segment;
  std::string source;  // "call", "ride_along", "enablement_session", "other", "win_loss".
  int64_t unix_seconds = 0;
  bool from_transcript = false;  // A sentence of a call transcript.
  // Win/loss facts when the document is an objection of a win/loss note (deal_id is also
  // set for feedback and transcripts, but only counted for win/loss notes).
  bool from_win_loss = false;
  std::string outcome;  // "won", "lost", "no_decision".
  std::string deal_id;
  double amount = 0;
  std::vector<std::string> competitors;
};

struct Quote {
  std::string record_id;
  std::string text;
  double closeness = 0;  // Cosine of the document to the theme when it was added.
};

struct ThemeSummary {
  ThemeId id = -1;
  std::string label;    // The manual tag, else 1-3 terms, most distinctive first; "theme N".
  bool tagged = false;  // Someone tagged records with this theme (the label is the tag).
  // Top terms as stems with their weights, best first (ThemeClusterer::TopTerms).
  std::vector<std::pair<std::string, double>> stems;
  int64_t mentions = 0;
  std::map<std::string, int64_t> by_region, by_segment, by_source, by_quarter;  // "2026-Q3".
  int64_t first_seen = 0, last_seen = 0;                                        // Unix seconds.
  std::vector<Quote> quotes;                   // Up to 5, closest first.
  int64_t objections = 0;                      // Win/loss objections in the theme.
  int64_t lost_deals = 0, won_deals = 0;       // Distinct deals.
  double amount_at_stake = 0;                  // Sum over distinct lost deals.
  std::map<std::string, int64_t> competitors;  // Name -> mentions.
};

// Quotes are kept to this many code points: longer texts are cut and end in "…" (U+2026),
// so one huge record cannot bloat theme state, the board or the API.
inline constexpr size_t kMaxQuoteCodePoints = 300;
// `text` cut to kMaxQuoteCodePoints code points at a code point boundary, plus "…" when cut.
std::string CutQuote(absl::string_view text);

// The count of `key` in one of ThemeSummary's by_* maps, 0 when absent.
inline int64_t CountOf(const std::map<std::string, int64_t>& counts, const std::string& key) {
  auto it = counts.find(key);
  return it == counts.end() ? 0 : it->second;
}

// Calendar quarter of a Unix time, "YYYY-Qn" (UTC).
std::string QuarterOf(int64_t unix_seconds);
// Calendar quarter of a day, "YYYY-Qn".
std::string QuarterOfDay(absl::CivilDay day);
// The quarter before a "YYYY-Qn" one; empty when `quarter` is not of that form.
std::string PreviousQuarter(const std::string& quarter);

class ThemeBook {
 public:
  // Most quotes kept per theme.
  static constexpr size_t kMaxQuotes = 5;

  // Records that `facts` (with normalized `terms`) joined `theme`; `closeness` is the
  // document's cosine to the theme (ThemeClusterer::Closeness).
  void Add(ThemeId theme, const DocumentFacts& facts, const std::vector<Term>& terms,
           double closeness);

  // Summary of `theme` with its label and top terms taken from `clusterer`. Empty summary
  // (id -1) for an unknown theme.
  ThemeSummary Summarize(ThemeId theme, const ThemeClusterer& clusterer) const;

  // Folds the entry of `from` into `into` (after the clusterer merged them): counts add
  // up, the closest quotes of both are kept, deals are counted once.
  void Merge(ThemeId from, ThemeId into);

  // State for storage (see ThemeClusterer): per theme, and the surface forms per stem.
  void ExportTheme(ThemeId theme, state::BookState* out) const;
  void ImportTheme(ThemeId theme, const state::BookState& in);
  void ExportSurfaces(const std::string& stem, state::TermState* out) const;
  void ImportSurfaces(const state::TermState& in);

  // The most frequent surface form of `stem` ("pricing" for "price"), `stem` itself when
  // never seen. Ties go to the alphabetically first form.
  std::string DisplayForm(const std::string& stem) const;

 private:
  struct Entry {
    ThemeSummary summary;  // Everything but label, terms and the deal figures.
    struct Deal {
      bool lost = false;
      bool won = false;
      double amount = 0;
    };
    std::map<std::string, Deal> deals_seen;  // deal_id -> outcome and amount.
  };
  std::map<ThemeId, Entry> themes_;
  absl::flat_hash_map<std::string, std::map<std::string, int64_t>> surfaces_;  // stem -> form -> n
};

}  // namespace fieldloop::pipeline

#endif  // FIELDLOOP_PIPELINE_THEME_BOOK_H_
