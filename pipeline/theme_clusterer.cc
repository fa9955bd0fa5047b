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
  }
  return it->second;
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

double ThemeClusterer::NewThemeScore(const TermCounts& doc, double vocab_beta) const {
  double s = std::log(options_.alpha * static_cast<double>(documents_ + 1));
  int i = 0;
  for (const auto& [term, count] : doc) {
    for (int j = 0; j < count; ++j, ++i) {
      s += std::log(options_.beta + j) - std::log(vocab_beta + i);
    }
  }
  return s;
}

double ThemeClusterer::ThemeScore(const Theme& theme, const TermCounts& doc,
                                  double vocab_beta) const {
  double s = std::log(static_cast<double>(theme.documents));
  int i = 0;
  for (const auto& [term, count] : doc) {
    auto it = theme.term_counts.find(term);
    const double n = it == theme.term_counts.end() ? 0.0 : static_cast<double>(it->second);
    for (int j = 0; j < count; ++j, ++i) {
      s += std::log(n + options_.beta + j) - std::log(theme.words + vocab_beta + i);
    }
  }
  return s;
}

ThemeId ThemeClusterer::Assign(const TermCounts& doc) {
  if (doc.empty()) return -1;
  const double vocab_beta = static_cast<double>(vocabulary_.size()) * options_.beta;
  // Candidates: themes sharing a term, each once, in id order (ties go to the lowest id).
  std::vector<ThemeId> candidates;
  for (const auto& [term, count] : doc) {
    const auto& p = postings_[term];
    candidates.insert(candidates.end(), p.begin(), p.end());
  }
  std::sort(candidates.begin(), candidates.end());
  candidates.erase(std::unique(candidates.begin(), candidates.end()), candidates.end());

  ThemeId best = -1;
  double best_score = NewThemeScore(doc, vocab_beta);
  for (ThemeId z : candidates) {
    const double s = ThemeScore(themes_[z], doc, vocab_beta);
    if (s > best_score) {
      best_score = s;
      best = z;
    }
  }
  if (best < 0) {
    best = static_cast<ThemeId>(themes_.size());
    themes_.emplace_back();
    ++live_themes_;
  }
  Theme& theme = themes_[best];
  ++theme.documents;
  for (const auto& [term, count] : doc) {
    term_total_[term] += count;
    auto [it, inserted] = theme.term_counts.try_emplace(term, 0);
    if (inserted) postings_[term].push_back(best);
    it->second += count;
    theme.words += count;
  }
  ++documents_;
  return best;
}

double ThemeClusterer::Closeness(ThemeId theme, const TermCounts& doc) const {
  if (theme < 0 || theme >= static_cast<ThemeId>(themes_.size())) return 0;
  const Theme& t = themes_[theme];
  double dot = 0, doc_norm = 0, theme_norm = 0;
  for (const auto& [term, count] : doc) {
    doc_norm += static_cast<double>(count) * count;
    auto it = t.term_counts.find(term);
    if (it != t.term_counts.end()) dot += static_cast<double>(count) * it->second;
  }
  for (const auto& [term, n] : t.term_counts) theme_norm += static_cast<double>(n) * n;
  if (dot == 0) return 0;
  return dot / std::sqrt(doc_norm * theme_norm);
}

std::vector<std::pair<std::string, double>> ThemeClusterer::TopTerms(ThemeId theme,
                                                                     size_t k) const {
  std::vector<std::pair<std::string, double>> out;
  if (theme < 0 || theme >= static_cast<ThemeId>(themes_.size())) return out;
  for (const auto& [term, n] : themes_[theme].term_counts) {
    out.emplace_back(stems_[term], static_cast<double>(n) * n / term_total_[term]);
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
    return a.second != b.second ? a.second > b.second : a.first < b.first;
  });
  if (out.size() > k) out.resize(k);
  return out;
}

}  // namespace fieldloop::pipeline
