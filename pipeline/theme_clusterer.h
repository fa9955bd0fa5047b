// ThemeClusterer: single-pass, deterministic clustering of short texts into themes whose
// number is not known in advance. Pure: no I/O, no clock, no randomness.
//
// Model (docs/clustering.md): a one-pass Dirichlet-multinomial mixture in the MStream
// family. A document d joins the existing theme z that maximizes
//   log m_z + sum_w sum_{j<N_dw} log(n_zw + beta + j) - sum_{i<N_d} log(n_z + V beta + i)
// or starts a new theme when
//   log(alpha D) + sum_w sum_{j<N_dw} log(beta + j) - sum_{i<N_d} log(V beta + i)
// is larger (m_z documents and n_z term occurrences in z, n_zw occurrences of w in z, D
// documents so far, V terms so far). Ties go to the lowest theme id. Candidates come from an
// inverted index term -> themes, so only themes sharing a term with d are scored.
#ifndef FIELDLOOP_PIPELINE_THEME_CLUSTERER_H_
#define FIELDLOOP_PIPELINE_THEME_CLUSTERER_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"

namespace fieldloop::pipeline {

using ThemeId = int64_t;
using TermId = int32_t;

struct ClustererOptions {
  // Weight of starting a new theme, per document seen (alpha * D). Larger: more themes.
  // Default: 0.03 (MStream's value).
  double alpha = 0.03;
  // Smoothing of each theme's term distribution. Smaller: a document needs to share fewer
  // terms to be kept apart, so more, purer themes.
  // Default: 0.02 (measured on ../shared/datasets; docs/clustering.md).
  double beta = 0.02;
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

  // Assigns `doc` to a theme (existing or new) and updates the theme's statistics. An
  // empty document goes to no theme: returns -1 and changes nothing.
  ThemeId Assign(const TermCounts& doc);

  // Cosine between `doc` and the term counts of `theme` (0 for an unknown theme).
  double Closeness(ThemeId theme, const TermCounts& doc) const;

  // The `k` most distinctive stems of `theme`, best first (ties by stem), weighted
  // n_zw * (n_zw / n_w): frequent in the theme and mostly found there (n_w: occurrences of
  // w in all documents). IDF would punish the very term that defines a large theme.
  // Empty for an unknown theme.
  std::vector<std::pair<std::string, double>> TopTerms(ThemeId theme, size_t k) const;

  // Number of live themes.
  size_t num_themes() const { return live_themes_; }
  int64_t num_documents() const { return documents_; }

 private:
  struct Theme {
    int64_t documents = 0;
    int64_t words = 0;
    absl::flat_hash_map<TermId, int64_t> term_counts;
  };

  double NewThemeScore(const TermCounts& doc, double vocab_beta) const;
  double ThemeScore(const Theme& theme, const TermCounts& doc, double vocab_beta) const;

  ClustererOptions options_;
  absl::flat_hash_map<std::string, TermId> vocabulary_;
  std::vector<std::string> stems_;              // TermId -> stem.
  std::vector<int64_t> term_total_;             // TermId -> occurrences in all documents.
  std::vector<Theme> themes_;                   // Index = ThemeId.
  std::vector<std::vector<ThemeId>> postings_;  // TermId -> themes holding the term.
  int64_t documents_ = 0;
  size_t live_themes_ = 0;
};

}  // namespace fieldloop::pipeline

#endif  // FIELDLOOP_PIPELINE_THEME_CLUSTERER_H_
