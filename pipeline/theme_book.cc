#include "pipeline/theme_book.h"

#include <algorithm>
#include <ctime>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace fieldloop::pipeline {

std::string QuarterOf(int64_t unix_seconds) {
  const std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  return absl::StrCat(tm.tm_year + 1900, "-Q", tm.tm_mon / 3 + 1);
}

void ThemeBook::Add(ThemeId theme, const DocumentFacts& facts, const std::vector<Term>& terms,
                    double closeness) {
  for (const Term& t : terms) ++surfaces_[t.stem][t.surface];
  Entry& e = themes_[theme];
  ThemeSummary& s = e.summary;
  s.id = theme;
  ++s.mentions;
  ++s.by_region[facts.region];
  ++s.by_segment[facts.segment];
  ++s.by_source[facts.source];
  ++s.by_quarter[QuarterOf(facts.unix_seconds)];
  if (s.mentions == 1 || facts.unix_seconds < s.first_seen) s.first_seen = facts.unix_seconds;
  s.last_seen = std::max(s.last_seen, facts.unix_seconds);

  // Keep the kMaxQuotes closest quotes; ties keep the earlier one (record order).
  Quote q{facts.record_id, facts.text, closeness};
  auto pos = std::find_if(s.quotes.begin(), s.quotes.end(),
                          [&](const Quote& other) { return other.closeness < closeness; });
  if (s.quotes.size() < kMaxQuotes || pos != s.quotes.end()) {
    s.quotes.insert(pos, std::move(q));
    if (s.quotes.size() > kMaxQuotes) s.quotes.pop_back();
  }

  if (facts.from_win_loss) {
    ++s.objections;
    for (const std::string& c : facts.competitors) ++s.competitors[c];
    if (!facts.deal_id.empty() && !e.deals_seen.count(facts.deal_id)) {
      const bool lost = facts.outcome == "lost";
      e.deals_seen[facts.deal_id] = lost;
      if (lost) {
        ++s.lost_deals;
        s.amount_at_stake += facts.amount;
      } else if (facts.outcome == "won") {
        ++s.won_deals;
      }
    }
  }
}

std::string ThemeBook::DisplayForm(const std::string& stem) const {
  auto it = surfaces_.find(stem);
  if (it == surfaces_.end()) {
    // A bigram: display each half.
    const size_t us = stem.find('_');
    if (us != std::string::npos) {
      return absl::StrCat(DisplayForm(stem.substr(0, us)), " ", DisplayForm(stem.substr(us + 1)));
    }
    return stem;
  }
  const std::string* best = &stem;
  int64_t best_n = -1;
  for (const auto& [form, n] : it->second) {  // std::map: alphabetical, so ties keep the first.
    if (n > best_n) {
      best = &form;
      best_n = n;
    }
  }
  return *best;
}

ThemeSummary ThemeBook::Summarize(ThemeId theme, const ThemeClusterer& clusterer) const {
  auto it = themes_.find(theme);
  if (it == themes_.end()) return ThemeSummary{};
  ThemeSummary s = it->second.summary;
  for (const auto& [stem, weight] : clusterer.TopTerms(theme, 10)) {
    s.terms.emplace_back(DisplayForm(stem), weight);
  }
  std::vector<std::string> label;
  for (const auto& [form, weight] : s.terms) {
    if (label.size() == 3) break;
    if (std::find(label.begin(), label.end(), form) == label.end()) label.push_back(form);
  }
  s.label = label.empty() ? absl::StrCat("theme ", theme) : absl::StrJoin(label, " / ");
  return s;
}

}  // namespace fieldloop::pipeline
