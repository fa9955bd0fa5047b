// ThemeClusterer: single-pass, deterministic clustering of short texts into themes whose
// number is not known in advance. Pure: no I/O, no clock, no randomness.
//
// Model (docs/clustering.md): TF-IDF cosine to theme centroids with a create threshold
// and a size bonus. With df_w the number of documents holding w (updated with d before
// scoring), D the documents so far and idf_w = ln((D + 1) / (df_w + 0.5)), a document d
// with term counts c_w scores against theme z (summed term counts t_zw, m_z documents)
//   raw(d, z) = sum_w c_w idf_w * t_zw idf_w / (|d| |z|),  score = raw * (1 + g ln m_z)
// where |d| and |z| are the TF-IDF norms (|z| cached, refreshed when z changed or every
// norm_refresh documents). d joins the best-scoring theme unless that theme's raw cosine
// is below create_threshold, in which case it starts a new theme. Ties go to the lowest
// theme id. Candidates come from an inverted index term -> themes, so only themes sharing
// a term with d are scored. No floating-point sum runs in hash-map order (absl salts it per
// process): document sums run in term-id order and theme norms are summed exactly in fixed
// point, so the same input gives the same themes in any process, also after a restart.
//
// Manual tags: a tagged document joins the theme of its tag (created on first use, never
// merged away) and its terms teach that theme, so later untagged documents like it join.
// Merging: every merge_interval documents, each theme changed since the last check is
// compared (cosine of term counts) with the themes sharing one of its 8 heaviest terms; a
// pair at or above
// merge_threshold becomes one theme. The survivor is the tagged one, else the larger, else
// the older; the other id resolves to it forever and is never reused.
// Bounded memory: a theme keeps at most max_terms_per_theme term counts (the largest; ties
// by term id); pruned occurrences still count in its total, so scores stay normalized.
#ifndef FIELDLOOP_PIPELINE_THEME_CLUSTERER_H_
#define FIELDLOOP_PIPELINE_THEME_CLUSTERER_H_

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "pipeline/text_normalizer.h"
#include "pipeline/theme_state.pb.h"

namespace fieldloop::pipeline {

using ThemeId = int64_t;
using TermId = int32_t;

struct ClustererOptions {
  // Raw cosine below which a document starts a new theme instead of joining the best one.
  // Larger: more, purer themes. Default: 0.08 (measured on ../shared/datasets).
  double create_threshold = 0.08;
  // Size bonus g: the score of a theme with m documents is raw * (1 + g ln m), so
  // established themes win close calls. Default: 0.25.
  double size_gain = 0.25;
  // Documents after which a theme's cached norm is recomputed even if it did not change
  // (idf drifts as documents arrive). Default: 20.
  int64_t norm_refresh = 20;
  // Documents between two merge checks; 0 disables merging.
  // Default: 1000.
  int64_t merge_interval = 1000;
  // Cosine of term counts at or above which two themes merge.
  // Default: 0.4 (measured: it keeps stackoverflow under 400 themes without costing NMI).
  double merge_threshold = 0.4;
  // Most term counts kept per theme.
  // Default: 1000.
  size_t max_terms_per_theme = 1000;
  // Half-life, in documents, of a theme's pull: the score of a theme that has not grown
  // for h documents is halved. 0 disables fading.
  // Default: 0.
  double fade_half_life = 0;
};

// One document as term ids with their counts, terms sorted by id.
using TermCounts = std::vector<std::pair<TermId, int>>;

class ThemeClusterer {
 public:
  explicit ThemeClusterer(ClustererOptions options = {});

  // Returns the id of `stem`, adding it to the vocabulary when new.
  TermId Intern(absl::string_view stem);

  // Counts the interned terms of a document (sorted by term id, duplicates summed).
  static TermCounts Count(const std::vector<TermId>& terms);

  // Interns the stems of `terms` and counts them: the document form Assign takes.
  TermCounts InternAndCount(const std::vector<Term>& terms);

  // Assigns `doc` to a theme (existing or new) and updates the theme's statistics. An
  // empty document goes to no theme: returns -1 and changes nothing. May merge themes
  // afterwards (see TakeMerges()).
  ThemeId Assign(const TermCounts& doc);

  // Assigns `doc` to the theme of manual tag `tag` (created on first use) and updates its
  // statistics, even when `doc` is empty. Returns the theme.
  ThemeId AssignTagged(const TermCounts& doc, const std::string& tag);

  // The live theme `id` resolves to: itself, or the survivor of the merges and aliases it
  // went through. -1 for an id never given or retired (see Retire).
  ThemeId Resolve(ThemeId id) const;

  // Retires ids 0..count-1 on a fresh clusterer (no theme allocated yet; otherwise does
  // nothing): they name no theme, Resolve gives -1 for them, and new themes get ids from
  // `count` on. A rebuild of theme state (ThemeApplier::RemoveRecords) retires every id
  // the old model used, so no old id comes to name another theme.
  void Retire(ThemeId count);

  // Makes retired id `id` resolve to theme `into` from now on, like a merge (it is stored
  // in its ThemeState.merged_into). Does nothing unless `id` is retired and `into` an id
  // that is not.
  void Alias(ThemeId id, ThemeId into);

  // The merges made since the last call, in order: (merged away, survivor). Callers that
  // keep per-theme data (ThemeBook) fold it along; Resolve() stays the source of truth.
  std::vector<std::pair<ThemeId, ThemeId>> TakeMerges() { return std::exchange(merges_, {}); }

  // The manual tag of `theme`, empty when it has none.
  const std::string& TagOf(ThemeId theme) const;

  // Ids of the live themes, ascending.
  std::vector<ThemeId> LiveThemes() const;

  // Documents in `theme` (0 for merged-away or unknown ids).
  int64_t DocumentsIn(ThemeId theme) const;

  // State for storage. TakeChanged moves out the themes and terms changed since the last
  // call (ascending); Export* write their state; Import* restore it into a fresh clusterer
  // (globals first, then terms and themes in any order), which then behaves exactly as the
  // one exported.
  void TakeChanged(std::vector<ThemeId>* themes, std::vector<TermId>* terms);
  void ExportTheme(ThemeId theme, state::ThemeState* out) const;
  void ExportTerm(TermId term, state::TermState* out) const;
  void ExportGlobals(state::ClustererGlobals* out) const;
  void ImportGlobals(const state::ClustererGlobals& in);
  void ImportTerm(const state::TermState& in);
  void ImportTheme(const state::ThemeState& in);
  const std::string& StemOf(TermId term) const { return stems_[term]; }

  // Cosine between `doc` and the term counts of `theme` (0 for an unknown theme).
  double Closeness(ThemeId theme, const TermCounts& doc) const;

  // The `k` most distinctive stems of `theme`, best first (ties by stem), weighted
  // n_zw * log(1 + n_zw N / (n_z n_w)): frequent in the theme and more frequent there than
  // elsewhere (n_w: occurrences of w in all documents, N: all occurrences). Terms seen in
  // fewer than max(2, 10% of the theme's documents) of its occurrences come after the
  // others, so a one-off word never labels a theme. IDF alone would punish the very term
  // that defines a large theme. Empty for an unknown theme.
  std::vector<std::pair<std::string, double>> TopTerms(ThemeId theme, size_t k) const;

  // Number of live themes.
  size_t num_themes() const { return live_themes_; }
  // Number of ids given so far (live, merged, aliased and retired): the next new theme's id.
  ThemeId num_ids() const { return static_cast<ThemeId>(themes_.size()); }
  int64_t num_documents() const { return documents_; }

 private:
  struct Theme {
    int64_t documents = 0;
    int64_t words = 0;
    absl::flat_hash_map<TermId, int64_t> term_counts;
    int64_t square_sum = 0;  // Sum of squared term counts (kept in step with term_counts).
    double norm = 0;         // Cached TF-IDF norm.
    int64_t norm_at = -1;    // documents_ when norm was computed.
    bool norm_stale = true;  // Changed since.
    std::string tag;
    ThemeId merged_into = -1;  // Set when merged away or aliased; kRetired when retired.
    bool dirty = false;        // Changed since the last merge check.
    int64_t last_grown = 0;    // documents_ when a document last joined.
    bool changed = false;      // Changed since the last TakeChanged.
  };

  // merged_into of a retired id (Retire), and of every id between ImportGlobals and
  // ImportTheme: an id held by no theme.
  static constexpr ThemeId kRetired = -2;

  ThemeId NewTheme();
  void AddTo(ThemeId id, const TermCounts& doc);
  // Adds `n` occurrences of `term` to theme `id`: its count, square_sum and the postings.
  void AddCount(ThemeId id, Theme& theme, TermId term, int64_t n);
  void Prune(ThemeId id);
  void AfterDocument();  // Runs the merge check every merge_interval documents.
  void MergeCheck();
  double Cosine(const Theme& a, const Theme& b) const;
  void Merge(ThemeId from, ThemeId into);

  double Idf(TermId term) const;
  void CountDocument(const TermCounts& doc);  // Adds `doc` to df and D.
  double Norm(Theme& theme);

  ClustererOptions options_;
  absl::flat_hash_map<std::string, TermId> vocabulary_;
  std::vector<std::string> stems_;              // TermId -> stem.
  std::vector<int64_t> term_total_;             // TermId -> occurrences in all documents.
  std::vector<int64_t> doc_freq_;               // TermId -> documents holding it.
  std::vector<double> log_df_;                  // TermId -> ln(doc_freq_ + 0.5).
  double log_d1_ = 0;                           // ln(documents_ + 1).
  std::vector<Theme> themes_;                   // Index = ThemeId.
  std::vector<std::vector<ThemeId>> postings_;  // TermId -> themes holding the term.
  int64_t documents_ = 0;
  size_t live_themes_ = 0;
  int64_t since_merge_check_ = 0;
  std::vector<std::pair<ThemeId, ThemeId>> merges_;  // Since the last TakeMerges().
  std::map<std::string, ThemeId> tags_;
  std::vector<TermId> changed_terms_;
  std::vector<bool> term_changed_;
};

}  // namespace fieldloop::pipeline

#endif  // FIELDLOOP_PIPELINE_THEME_CLUSTERER_H_
