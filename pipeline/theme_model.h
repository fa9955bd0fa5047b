// ThemeModel: the theme state of one initiative. Turns stored records into documents,
// assigns them to themes (ThemeClusterer) and books what is known about each theme
// (ThemeBook). Pure and deterministic: the same records in the same order give the same
// themes; exporting the state and importing it into a fresh model gives a model that
// behaves exactly as the original.
//
// Which texts become documents (docs/clustering.md):
// - FeedbackEvent: its text, one document (with theme_tag: the tag's theme).
// - CallTranscript: split into sentences (on '.', '!', '?' followed by a space, and on line
//   breaks); every buyer sentence is kept, and a rep sentence is kept when it reports a
//   need (it contains one of kNeedCues, e.g. "they need", "asked for", "concerned").
//   Sentences with fewer than three terms are dropped, and so are sentences with fewer
//   than two terms outside kSmallTalkWords (pleasantries, scheduling, travel, weather:
//   "It's fine, go ahead.", "Send it over and we'll review internally."); numbers do not
//   count as such terms.
// - A feedback event's leading framing clause is not clustered (it stays in the quote): the
//   text before the first ": ", " - " or ". " when that clause has at most eight words, at
//   least one of them in kFramingWords, and every other word a framing word, a stop word
//   or a name (a capitalized word, the first only when the second is capitalized too, or
//   a word with '#' or '@' such as a channel):
//   "Call notes: ", "Ride-along with Ana Diaz: ",
//   "Rode along on the Redwood Dental meeting. ", "From Slack (#deal-desk): ".
// - WinLossNote: each objection, one document carrying the deal's outcome, amount and
//   competitors.
// - ContentAsset, OnboardingMetric: no documents.
#ifndef FIELDLOOP_PIPELINE_THEME_MODEL_H_
#define FIELDLOOP_PIPELINE_THEME_MODEL_H_

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "pipeline/input_counts.h"
#include "pipeline/text_normalizer.h"
#include "pipeline/theme_book.h"
#include "pipeline/theme_clusterer.h"
#include "pipeline/theme_state.pb.h"
#include "proto/fieldloop/v1/ingest.pb.h"

namespace fieldloop::pipeline {

struct ModelOptions {
  NormalizerOptions normalizer;
  ClustererOptions clusterer;
};

// Phrases that make a rep's transcript sentence a report of a buyer need (folded text).
extern const char* const kNeedCues[];

// Words of greetings, thanks, scheduling, travel, weather and hobbies: a transcript
// sentence made (almost) only of these is small talk, not a buyer need. Matched by stem.
extern const char* const kSmallTalkWords[];

// Words that say where a feedback note came from rather than what was heard: channels
// ("call", "ride-along", "slack", "survey"), occasions ("session", "huddle", "demo") and
// reporting verbs ("said", "posted"). Matched by stem.
extern const char* const kFramingWords[];

// The texts of `request` worth clustering, with the facts each carries.
std::vector<DocumentFacts> DocumentsOf(const fieldloop::v1::IngestRequest& request);

class ThemeModel {
 public:
  explicit ThemeModel(ModelOptions options = {});

  // Applies one record, and counts it in inputs() (CountInput) when those are known;
  // returns the themes its documents joined (may be empty).
  std::vector<ThemeId> Apply(const fieldloop::v1::IngestRequest& request);

  // State changed since the last call, for storage. `globals` always holds the input counts
  // (ClustererGlobals.inputs) while they are known and leaves them unset otherwise.
  struct Changes {
    std::vector<state::ThemeState> themes;
    std::vector<state::TermState> terms;
    state::ClustererGlobals globals;
  };
  Changes TakeChanges();

  // Restores exported state into a fresh model: `globals` first, then all terms and themes.
  // The input counts are restored from `globals.inputs`; without it (state written before
  // the counts were kept) they are unknown until SetInputs.
  void Import(const state::ClustererGlobals& globals, const std::vector<state::TermState>& terms,
              const std::vector<state::ThemeState>& themes);

  // CountInput over every record applied, or nullptr when unknown (see Import). A fresh
  // model knows them: all zero.
  const state::InputCounts* inputs() const { return inputs_ ? &*inputs_ : nullptr; }

  // Sets the input counts, for a model whose Import left them unknown: `counts` must be
  // CountInput over the records the imported state reflects. Records applied later are
  // counted on top.
  void SetInputs(state::InputCounts counts) { inputs_ = std::move(counts); }

  // Summaries of the live themes, ascending id.
  std::vector<ThemeSummary> Summaries() const;
  // Summary of one live theme; nullopt for a merged-away or unknown id.
  std::optional<ThemeSummary> Summary(ThemeId theme) const;

  const ThemeClusterer& clusterer() const { return clusterer_; }

  // ThemeClusterer::Retire and ThemeClusterer::Alias: on a fresh model, before any record,
  // retires the ids a model being rebuilt used; after the replay, makes each of them resolve
  // to the theme it lives on as (pipeline/theme_succession.h).
  void RetireThemes(ThemeId count) { clusterer_.Retire(count); }
  void AliasTheme(ThemeId id, ThemeId into) { clusterer_.Alias(id, into); }

  // Offset in a feedback text where its body starts, after a leading framing clause (see
  // the file comment); 0 when there is none.
  size_t FramingEnd(const std::string& text);

 private:
  ThemeId AssignDocument(const DocumentFacts& facts, const std::string* tag);
  // True when a transcript sentence with `terms` is small talk (see kSmallTalkWords).
  bool IsSmallTalk(const std::vector<Term>& terms) const;

  TextNormalizer normalizer_;
  ThemeClusterer clusterer_;
  ThemeBook book_;
  std::optional<state::InputCounts> inputs_{state::InputCounts()};  // nullopt: unknown.
  absl::flat_hash_set<std::string> small_talk_stems_;
  absl::flat_hash_set<std::string> framing_stems_;
};

}  // namespace fieldloop::pipeline

#endif  // FIELDLOOP_PIPELINE_THEME_MODEL_H_
