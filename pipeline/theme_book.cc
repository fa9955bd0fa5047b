#include "pipeline/theme_book.h"

#include <algorithm>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"

namespace fieldloop::pipeline {

std::string CutQuote(absl::string_view text) {
  // Code points start at every byte that is not a UTF-8 continuation byte (10xxxxxx).
  size_t points = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    if ((static_cast<unsigned char>(text[i]) & 0xC0) == 0x80) continue;
    if (points++ == kMaxQuoteCodePoints) return absl::StrCat(text.substr(0, i), "\u2026");
  }
  return std::string(text);
}

std::string QuarterOf(int64_t unix_seconds) {
  return QuarterOfDay(absl::ToCivilDay(absl::FromUnixSeconds(unix_seconds), absl::UTCTimeZone()));
}

std::string QuarterOfDay(absl::CivilDay day) {
  return absl::StrCat(day.year(), "-Q", (day.month() - 1) / 3 + 1);
}

std::string PreviousQuarter(const std::string& quarter) {
  int year = 0, q = 0;
  if (quarter.size() != 7 || quarter[4] != '-' || quarter[5] != 'Q' ||
      !absl::SimpleAtoi(quarter.substr(0, 4), &year) ||
      !absl::SimpleAtoi(quarter.substr(6, 1), &q) || q < 1 || q > 4) {
    return "";
  }
  return q == 1 ? absl::StrCat(year - 1, "-Q4") : absl::StrCat(year, "-Q", q - 1);
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
  Quote q{facts.record_id, CutQuote(facts.text), closeness};
  auto pos = std::find_if(s.quotes.begin(), s.quotes.end(),
                          [&](const Quote& other) { return other.closeness < closeness; });
  if (s.quotes.size() < kMaxQuotes || pos != s.quotes.end()) {
    s.quotes.insert(pos, std::move(q));
    if (s.quotes.size() > kMaxQuotes) s.quotes.pop_back();
  }

  if (facts.from_win_loss) {
    ++s.objections;
    for (const std::string& c : facts.competitors) ++s.competitors[c];
    if (!facts.deal_id.empty()) {
      e.deals_seen.try_emplace(facts.deal_id, Entry::Deal{facts.outcome == "lost",
                                                          facts.outcome == "won", facts.amount});
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
  // Deal figures, counted from the distinct deals (in deal-id order).
  for (const auto& [deal, info] : it->second.deals_seen) {
    if (info.lost) {
      ++s.lost_deals;
      s.amount_at_stake += info.amount;
    }
    if (info.won) ++s.won_deals;
  }
  s.stems = clusterer.TopTerms(theme, 10);
  std::vector<std::string> label;
  for (const auto& [stem, weight] : s.stems) {
    if (label.size() == 3) break;
    const std::string form = DisplayForm(stem);
    if (std::find(label.begin(), label.end(), form) == label.end()) label.push_back(form);
  }
  // A manually tagged theme is labelled with its tag, as the people who tag expect.
  const std::string& tag = clusterer.TagOf(theme);
  if (!tag.empty()) {
    s.label = tag;
    s.tagged = true;
  } else {
    s.label = label.empty() ? absl::StrCat("theme ", theme) : absl::StrJoin(label, " / ");
  }
  return s;
}

namespace {

void AddCounts(const std::map<std::string, int64_t>& from, std::map<std::string, int64_t>* into) {
  for (const auto& [k, v] : from) (*into)[k] += v;
}

void ToNamed(const std::map<std::string, int64_t>& from,
             google::protobuf::RepeatedPtrField<state::NamedCount>* out) {
  for (const auto& [k, v] : from) {
    auto* n = out->Add();
    n->set_name(k);
    n->set_count(v);
  }
}

void FromNamed(const google::protobuf::RepeatedPtrField<state::NamedCount>& in,
               std::map<std::string, int64_t>* out) {
  out->clear();
  for (const auto& n : in) (*out)[n.name()] = n.count();
}

}  // namespace

void ThemeBook::Merge(ThemeId from, ThemeId into) {
  auto it = themes_.find(from);
  if (it == themes_.end()) return;
  Entry src = std::move(it->second);
  themes_.erase(it);
  Entry& dst = themes_[into];
  ThemeSummary& d = dst.summary;
  const ThemeSummary& s = src.summary;
  d.id = into;
  if (d.mentions == 0 || (s.mentions > 0 && s.first_seen < d.first_seen))
    d.first_seen = s.first_seen;
  d.last_seen = std::max(d.last_seen, s.last_seen);
  d.mentions += s.mentions;
  AddCounts(s.by_region, &d.by_region);
  AddCounts(s.by_segment, &d.by_segment);
  AddCounts(s.by_source, &d.by_source);
  AddCounts(s.by_quarter, &d.by_quarter);
  AddCounts(s.competitors, &d.competitors);
  d.objections += s.objections;
  // Quotes: the closest of both, ties to the survivor's (stable merge).
  std::vector<Quote> quotes = d.quotes;
  quotes.insert(quotes.end(), s.quotes.begin(), s.quotes.end());
  std::stable_sort(quotes.begin(), quotes.end(),
                   [](const Quote& a, const Quote& b) { return a.closeness > b.closeness; });
  if (quotes.size() > kMaxQuotes) quotes.resize(kMaxQuotes);
  d.quotes = std::move(quotes);
  // A deal in both themes counts once (Summarize counts deals_seen).
  for (const auto& [deal, info] : src.deals_seen) dst.deals_seen.try_emplace(deal, info);
}

void ThemeBook::ExportTheme(ThemeId theme, state::BookState* out) const {
  auto it = themes_.find(theme);
  if (it == themes_.end()) return;
  const ThemeSummary& s = it->second.summary;
  out->set_mentions(s.mentions);
  ToNamed(s.by_region, out->mutable_by_region());
  ToNamed(s.by_segment, out->mutable_by_segment());
  ToNamed(s.by_source, out->mutable_by_source());
  ToNamed(s.by_quarter, out->mutable_by_quarter());
  out->set_first_seen(s.first_seen);
  out->set_last_seen(s.last_seen);
  for (const Quote& q : s.quotes) {
    auto* qs = out->add_quotes();
    qs->set_record_id(q.record_id);
    qs->set_text(q.text);
    qs->set_closeness(q.closeness);
  }
  out->set_objections(s.objections);
  ToNamed(s.competitors, out->mutable_competitors());
  for (const auto& [deal, info] : it->second.deals_seen) {
    auto* d = out->add_deals();
    d->set_deal_id(deal);
    d->set_lost(info.lost);
    d->set_won(info.won);
    d->set_amount(info.amount);
  }
}

void ThemeBook::ImportTheme(ThemeId theme, const state::BookState& in) {
  if (in.mentions() == 0 && in.quotes_size() == 0) return;
  Entry& e = themes_[theme];
  ThemeSummary& s = e.summary;
  s.id = theme;
  s.mentions = in.mentions();
  FromNamed(in.by_region(), &s.by_region);
  FromNamed(in.by_segment(), &s.by_segment);
  FromNamed(in.by_source(), &s.by_source);
  FromNamed(in.by_quarter(), &s.by_quarter);
  s.first_seen = in.first_seen();
  s.last_seen = in.last_seen();
  s.quotes.clear();
  for (const auto& q : in.quotes())
    s.quotes.push_back(Quote{q.record_id(), CutQuote(q.text()), q.closeness()});
  s.objections = in.objections();
  FromNamed(in.competitors(), &s.competitors);
  e.deals_seen.clear();
  for (const auto& d : in.deals()) e.deals_seen[d.deal_id()] = {d.lost(), d.won(), d.amount()};
}

void ThemeBook::ExportSurfaces(const std::string& stem, state::TermState* out) const {
  auto it = surfaces_.find(stem);
  if (it == surfaces_.end()) return;
  ToNamed(it->second, out->mutable_surfaces());
}

void ThemeBook::ImportSurfaces(const state::TermState& in) {
  if (in.surfaces_size() == 0) return;
  FromNamed(in.surfaces(), &surfaces_[in.stem()]);
}

}  // namespace fieldloop::pipeline
