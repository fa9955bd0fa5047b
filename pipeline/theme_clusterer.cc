#include "pipeline/theme_clusterer.h"

#include <algorithm>
#include <cmath>

namespace fieldloop::pipeline {

ThemeClusterer::ThemeClusterer(ClustererOptions options) : options_(options) {}

TermId ThemeClusterer::Intern(absl::string_view stem) {
  auto [it, inserted] = vocabulary_.try_emplace(stem, static_cast<TermId>(vocabulary_.size()));
  if (inserted) {
    postings_.emplace_back();
    stems_.emplace_back(stem);
    term_total_.push_back(0);
    doc_freq_.push_back(0);
    log_df_.push_back(std::log(0.5));
    term_changed_.push_back(false);
  }
  return it->second;
}

TermCounts ThemeClusterer::InternAndCount(const std::vector<Term>& terms) {
  std::vector<TermId> ids;
  ids.reserve(terms.size());
  for (const Term& t : terms) ids.push_back(Intern(t.stem));
  return Count(ids);
}

TermCounts ThemeClusterer::Count(const std::vector<TermId>& terms) {
  std::vector<TermId> sorted = terms;
  std::sort(sorted.begin(), sorted.end());
  TermCounts out;
  for (TermId t : sorted) {
    if (!out.empty() && out.back().first == t) {
      ++out.back().second;
    } else {
      out.emplace_back(t, 1);
    }
  }
  return out;
}

double ThemeClusterer::Idf(TermId term) const {
  // ln((D + 1) / (df + 0.5)) from cached logarithms: log_d1_ follows documents_ and
  // log_df_[term] follows doc_freq_[term] (both refreshed where they change).
  return log_d1_ - log_df_[term];
}

void ThemeClusterer::CountDocument(const TermCounts& doc) {
  for (const auto& [term, count] : doc) {
    ++doc_freq_[term];
    log_df_[term] = std::log(static_cast<double>(doc_freq_[term]) + 0.5);
  }
  ++documents_;
  log_d1_ = std::log(static_cast<double>(documents_) + 1.0);
}

double ThemeClusterer::Norm(Theme& theme) {
  if (theme.norm_at != documents_ &&
      (theme.norm_stale || documents_ - theme.norm_at >= options_.norm_refresh)) {
    // Hash-map order differs between processes (absl salts it), so the squares are summed
    // exactly, as 2^-32 fixed point in 128 bits: the result is the same in any order.
    unsigned __int128 sum = 0;
    for (const auto& [term, n] : theme.term_counts) {
      const double x = static_cast<double>(n) * Idf(term);
      sum += static_cast<unsigned __int128>(x * x * 4294967296.0);
    }
    theme.norm = std::sqrt(static_cast<double>(sum) / 4294967296.0);
    theme.norm_at = documents_;
    theme.norm_stale = false;
  }
  return theme.norm;
}

ThemeId ThemeClusterer::Assign(const TermCounts& doc) {
  if (doc.empty()) return -1;
  // Document frequencies and D include this document before scoring.
  CountDocument(doc);
  double doc_norm = 0;
  for (const auto& [term, count] : doc) {
    const double x = count * Idf(term);
    doc_norm += x * x;
  }
  doc_norm = std::sqrt(doc_norm);
  // Candidates: themes sharing a term, each once, in id order (ties go to the lowest id).
  std::vector<ThemeId> candidates;
  for (const auto& [term, count] : doc) {
    const auto& p = postings_[term];
    candidates.insert(candidates.end(), p.begin(), p.end());
  }
  std::sort(candidates.begin(), candidates.end());
  candidates.erase(std::unique(candidates.begin(), candidates.end()), candidates.end());

  ThemeId best = -1;
  double best_score = -1, best_raw = -1;
  for (ThemeId z : candidates) {
    Theme& theme = themes_[z];
    const double norm = Norm(theme);
    if (norm <= 0 || doc_norm <= 0) continue;
    double dot = 0;
    for (const auto& [term, count] : doc) {  // Sorted by term id.
      auto it = theme.term_counts.find(term);
      if (it == theme.term_counts.end()) continue;
      const double idf = Idf(term);
      dot += count * idf * static_cast<double>(it->second) * idf;
    }
    const double raw = dot / (doc_norm * norm);
    double score = raw * (1 + options_.size_gain * std::log(static_cast<double>(theme.documents)));
    if (options_.fade_half_life > 0) {
      score *=
          std::exp2(-static_cast<double>(documents_ - theme.last_grown) / options_.fade_half_life);
    }
    if (score > best_score) {
      best_score = score;
      best_raw = raw;
      best = z;
    }
  }
  if (best < 0 || best_raw < options_.create_threshold) best = NewTheme();
  AddTo(best, doc);
  AfterDocument();
  return best;
}

ThemeId ThemeClusterer::AssignTagged(const TermCounts& doc, const std::string& tag) {
  CountDocument(doc);
  auto [it, inserted] = tags_.try_emplace(tag, -1);
  if (inserted) {
    it->second = NewTheme();
    themes_[it->second].tag = tag;
  }
  const ThemeId theme = it->second;
  AddTo(theme, doc);
  AfterDocument();
  return theme;
}

void ThemeClusterer::AfterDocument() {
  if (options_.merge_interval > 0 && ++since_merge_check_ >= options_.merge_interval) {
    since_merge_check_ = 0;
    MergeCheck();
  }
}

ThemeId ThemeClusterer::NewTheme() {
  themes_.emplace_back();
  ++live_themes_;
  return static_cast<ThemeId>(themes_.size() - 1);
}

void ThemeClusterer::AddTo(ThemeId id, const TermCounts& doc) {
  Theme& theme = themes_[id];
  ++theme.documents;
  theme.dirty = true;
  theme.changed = true;
  theme.norm_stale = true;
  theme.last_grown = documents_;
  for (const auto& [term, count] : doc) {
    term_total_[term] += count;
    if (!term_changed_[term]) {
      term_changed_[term] = true;
      changed_terms_.push_back(term);
    }
    AddCount(id, theme, term, count);
    theme.words += count;
  }
  if (theme.term_counts.size() > options_.max_terms_per_theme) Prune(id);
}

void ThemeClusterer::AddCount(ThemeId id, Theme& theme, TermId term, int64_t n) {
  auto [it, inserted] = theme.term_counts.try_emplace(term, 0);
  if (inserted) postings_[term].push_back(id);
  theme.square_sum += (2 * it->second + n) * n;
  it->second += n;
}

namespace {

// Sum of count products of `counts` (term, count pairs) and `theme_counts`: an integer sum,
// exact whatever the (per-process) iteration order of the hash maps.
template <typename Counts>
int64_t Dot(const Counts& counts, const absl::flat_hash_map<TermId, int64_t>& theme_counts) {
  int64_t dot = 0;
  for (const auto& [term, n] : counts) {
    auto it = theme_counts.find(term);
    if (it != theme_counts.end()) dot += n * it->second;
  }
  return dot;
}

// dot / sqrt(square_a * square_b), 0 when nothing is shared.
double CosineOf(int64_t dot, int64_t square_a, int64_t square_b) {
  if (dot == 0) return 0;
  return static_cast<double>(dot) /
         std::sqrt(static_cast<double>(square_a) * static_cast<double>(square_b));
}

}  // namespace

void ThemeClusterer::Prune(ThemeId id) {
  Theme& theme = themes_[id];
  std::vector<std::pair<int64_t, TermId>> ranked;  // (-count, term): largest first.
  for (const auto& [term, n] : theme.term_counts) ranked.emplace_back(-n, term);
  std::sort(ranked.begin(), ranked.end());
  // Drop down to three quarters of the limit, so pruning does not run on every document.
  const size_t keep = options_.max_terms_per_theme * 3 / 4;
  theme.norm_stale = true;
  for (size_t i = keep; i < ranked.size(); ++i) {
    const TermId term = ranked[i].second;
    theme.square_sum -= ranked[i].first * ranked[i].first;
    theme.term_counts.erase(term);
    auto& p = postings_[term];
    p.erase(std::remove(p.begin(), p.end(), id), p.end());
  }
}

double ThemeClusterer::Cosine(const Theme& a, const Theme& b) const {
  const Theme& small = a.term_counts.size() <= b.term_counts.size() ? a : b;
  const Theme& large = &small == &a ? b : a;
  return CosineOf(Dot(small.term_counts, large.term_counts), a.square_sum, b.square_sum);
}

void ThemeClusterer::MergeCheck() {
  for (ThemeId z = 0; z < static_cast<ThemeId>(themes_.size()); ++z) {
    if (themes_[z].merged_into >= 0 || !themes_[z].dirty) continue;
    themes_[z].dirty = false;
    // Candidates share one of z's heaviest terms: two themes at cosine >= threshold
    // (merge_threshold) cannot differ on all of them. Keeps the check cheap.
    std::vector<std::pair<int64_t, TermId>> heavy;
    for (const auto& [term, n] : themes_[z].term_counts) heavy.emplace_back(-n, term);
    const size_t k = std::min<size_t>(heavy.size(), 8);
    std::partial_sort(heavy.begin(), heavy.begin() + k, heavy.end());
    std::vector<ThemeId> candidates;
    for (size_t i = 0; i < k; ++i) {
      for (ThemeId other : postings_[heavy[i].second]) {
        if (other != z) candidates.push_back(other);
      }
    }
    std::sort(candidates.begin(), candidates.end());
    candidates.erase(std::unique(candidates.begin(), candidates.end()), candidates.end());
    for (ThemeId other : candidates) {
      if (themes_[z].merged_into >= 0) break;
      const Theme& a = themes_[z];
      const Theme& b = themes_[other];
      if (b.merged_into >= 0 || (!a.tag.empty() && !b.tag.empty())) continue;
      if (Cosine(a, b) < options_.merge_threshold) continue;
      // Survivor: the tagged one, else the one with more documents, else the older.
      ThemeId keep = z, drop = other;
      if (!b.tag.empty() || (a.tag.empty() && (b.documents > a.documents ||
                                               (b.documents == a.documents && other < z)))) {
        std::swap(keep, drop);
      }
      Merge(drop, keep);
    }
  }
}

void ThemeClusterer::Merge(ThemeId from, ThemeId into) {
  Theme& src = themes_[from];
  Theme& dst = themes_[into];
  dst.documents += src.documents;
  dst.words += src.words;
  dst.dirty = true;
  dst.changed = true;
  dst.norm_stale = true;
  src.changed = true;
  for (const auto& [term, n] : src.term_counts) {
    auto& p = postings_[term];
    p.erase(std::remove(p.begin(), p.end(), from), p.end());
    AddCount(into, dst, term, n);
  }
  src.term_counts.clear();
  src.square_sum = 0;
  src.documents = 0;
  src.words = 0;
  src.merged_into = into;
  --live_themes_;
  merges_.emplace_back(from, into);
  if (dst.term_counts.size() > options_.max_terms_per_theme) Prune(into);
}

ThemeId ThemeClusterer::Resolve(ThemeId id) const {
  if (id < 0 || id >= static_cast<ThemeId>(themes_.size())) return -1;
  while (themes_[id].merged_into >= 0) id = themes_[id].merged_into;
  return themes_[id].merged_into == kRetired ? -1 : id;
}

void ThemeClusterer::Retire(ThemeId count) {
  if (!themes_.empty() || count <= 0) return;
  themes_.resize(static_cast<size_t>(count));
  for (Theme& t : themes_) t.merged_into = kRetired;
}

void ThemeClusterer::Alias(ThemeId id, ThemeId into) {
  const ThemeId n = static_cast<ThemeId>(themes_.size());
  if (id < 0 || id >= n || into < 0 || into >= n) return;
  if (themes_[id].merged_into != kRetired || themes_[into].merged_into == kRetired) return;
  themes_[id].merged_into = into;
  themes_[id].changed = true;  // Stored, so the alias survives a restart.
}

const std::string& ThemeClusterer::TagOf(ThemeId theme) const {
  static const std::string* const kNone = new std::string();
  if (theme < 0 || theme >= static_cast<ThemeId>(themes_.size())) return *kNone;
  return themes_[theme].tag;
}

std::vector<ThemeId> ThemeClusterer::LiveThemes() const {
  std::vector<ThemeId> out;
  for (ThemeId z = 0; z < static_cast<ThemeId>(themes_.size()); ++z) {
    if (themes_[z].merged_into == -1) out.push_back(z);
  }
  return out;
}

int64_t ThemeClusterer::DocumentsIn(ThemeId theme) const {
  if (theme < 0 || theme >= static_cast<ThemeId>(themes_.size())) return 0;
  return themes_[theme].documents;
}

double ThemeClusterer::Closeness(ThemeId theme, const TermCounts& doc) const {
  if (theme < 0 || theme >= static_cast<ThemeId>(themes_.size())) return 0;
  int64_t doc_square = 0;
  for (const auto& [term, count] : doc) doc_square += static_cast<int64_t>(count) * count;
  return CosineOf(Dot(doc, themes_[theme].term_counts), doc_square, themes_[theme].square_sum);
}

std::vector<std::pair<std::string, double>> ThemeClusterer::TopTerms(ThemeId theme,
                                                                     size_t k) const {
  std::vector<std::pair<std::string, double>> out;
  if (theme < 0 || theme >= static_cast<ThemeId>(themes_.size())) return out;
  const Theme& t = themes_[theme];
  double all = 0;
  for (int64_t total : term_total_) all += static_cast<double>(total);
  const int64_t floor = std::max<int64_t>(2, t.documents / 10);
  for (const auto& [term, n] : t.term_counts) {
    double w = static_cast<double>(n) *
               std::log(1 + static_cast<double>(n) * all /
                                (static_cast<double>(std::max<int64_t>(t.words, 1)) *
                                 static_cast<double>(term_total_[term])));
    if (n < floor) w -= 1e9;  // After every frequent term; order among them is kept.
    out.emplace_back(stems_[term], w);
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
    return a.second != b.second ? a.second > b.second : a.first < b.first;
  });
  if (out.size() > k) out.resize(k);
  return out;
}

void ThemeClusterer::TakeChanged(std::vector<ThemeId>* themes, std::vector<TermId>* terms) {
  themes->clear();
  for (ThemeId z = 0; z < static_cast<ThemeId>(themes_.size()); ++z) {
    if (themes_[z].changed) {
      themes_[z].changed = false;
      themes->push_back(z);
    }
  }
  std::sort(changed_terms_.begin(), changed_terms_.end());
  *terms = std::move(changed_terms_);
  changed_terms_.clear();
  for (TermId t : *terms) term_changed_[t] = false;
}

void ThemeClusterer::ExportTheme(ThemeId id, state::ThemeState* out) const {
  const Theme& t = themes_[id];
  out->set_id(id);
  out->set_documents(t.documents);
  out->set_words(t.words);
  std::vector<std::pair<TermId, int64_t>> terms(t.term_counts.begin(), t.term_counts.end());
  std::sort(terms.begin(), terms.end());
  for (const auto& [term, n] : terms) {
    auto* tc = out->add_terms();
    tc->set_term(term);
    tc->set_count(n);
  }
  out->set_tag(t.tag);
  out->set_merged_into(t.merged_into);
  out->set_last_grown(t.last_grown);
  out->set_merge_dirty(t.dirty);
  out->set_norm(t.norm);
  out->set_norm_at(t.norm_at);
  out->set_norm_stale(t.norm_stale);
}

void ThemeClusterer::ExportTerm(TermId term, state::TermState* out) const {
  out->set_term(term);
  out->set_stem(stems_[term]);
  out->set_total(term_total_[term]);
  out->set_document_frequency(doc_freq_[term]);
}

void ThemeClusterer::ExportGlobals(state::ClustererGlobals* out) const {
  out->set_documents(documents_);
  out->set_since_merge_check(since_merge_check_);
  out->set_themes_allocated(static_cast<int64_t>(themes_.size()));
  out->set_terms_allocated(static_cast<int32_t>(stems_.size()));
}

void ThemeClusterer::ImportGlobals(const state::ClustererGlobals& in) {
  documents_ = in.documents();
  since_merge_check_ = in.since_merge_check();
  themes_.assign(static_cast<size_t>(in.themes_allocated()), Theme());
  for (Theme& t : themes_) t.merged_into = kRetired;  // Until imported; retired if not.
  stems_.assign(static_cast<size_t>(in.terms_allocated()), std::string());
  term_total_.assign(stems_.size(), 0);
  doc_freq_.assign(stems_.size(), 0);
  log_df_.assign(stems_.size(), std::log(0.5));
  log_d1_ = std::log(static_cast<double>(documents_) + 1.0);
  term_changed_.assign(stems_.size(), false);
  postings_.assign(stems_.size(), {});
  merges_.clear();
  live_themes_ = 0;
}

void ThemeClusterer::ImportTerm(const state::TermState& in) {
  const TermId id = in.term();
  if (id < 0 || id >= static_cast<TermId>(stems_.size())) return;
  stems_[id] = in.stem();
  term_total_[id] = in.total();
  doc_freq_[id] = in.document_frequency();
  log_df_[id] = std::log(static_cast<double>(doc_freq_[id]) + 0.5);
  vocabulary_[in.stem()] = id;
}

void ThemeClusterer::ImportTheme(const state::ThemeState& in) {
  const ThemeId id = in.id();
  if (id < 0 || id >= static_cast<ThemeId>(themes_.size())) return;
  Theme& t = themes_[id];
  t = Theme();
  t.documents = in.documents();
  t.words = in.words();
  for (const auto& tc : in.terms()) {
    if (tc.term() < 0 || tc.term() >= static_cast<TermId>(postings_.size())) continue;
    AddCount(id, t, tc.term(), tc.count());
  }
  t.tag = in.tag();
  if (!t.tag.empty()) tags_[t.tag] = id;
  t.merged_into = in.merged_into();
  t.last_grown = in.last_grown();
  t.dirty = in.merge_dirty();
  t.norm = in.norm();
  t.norm_at = in.norm_at();
  t.norm_stale = in.norm_stale();
  if (t.merged_into < 0) ++live_themes_;
}

}  // namespace fieldloop::pipeline
