#include "pipeline/theme_model.h"

#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_split.h"

namespace fieldloop::pipeline {
namespace {

using fieldloop::v1::IngestRequest;

const char* SourceName(fieldloop::v1::Source source) {
  switch (source) {
    case fieldloop::v1::SOURCE_CALL:
      return "call";
    case fieldloop::v1::SOURCE_RIDE_ALONG:
      return "ride_along";
    case fieldloop::v1::SOURCE_ENABLEMENT_SESSION:
      return "enablement_session";
    default:
      return "other";
  }
}

const char* OutcomeName(fieldloop::v1::Outcome outcome) {
  switch (outcome) {
    case fieldloop::v1::OUTCOME_WON:
      return "won";
    case fieldloop::v1::OUTCOME_LOST:
      return "lost";
    default:
      return "no_decision";
  }
}

std::vector<std::string> Sentences(const std::string& text) {
  std::vector<std::string> out;
  std::string cur;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    cur.push_back(c);
    const bool end =
        ((c == '.' || c == '!' || c == '?') && (i + 1 == text.size() || text[i + 1] == ' ')) ||
        c == '\n';
    if (end) {
      if (!absl::StripAsciiWhitespace(cur).empty()) {
        out.emplace_back(absl::StripAsciiWhitespace(cur));
      }
      cur.clear();
    }
  }
  if (!absl::StripAsciiWhitespace(cur).empty()) out.emplace_back(absl::StripAsciiWhitespace(cur));
  return out;
}

bool ReportsNeed(const std::string& sentence) {
  const std::string folded = TextNormalizer::Fold(sentence);
  for (const char* const* cue = kNeedCues; *cue != nullptr; ++cue) {
    if (absl::StrContains(folded, *cue)) return true;
  }
  return false;
}

}  // namespace

const char* const kNeedCues[] = {
    "they need",     "they want",     "they asked", "asked for", "asked about", "asked if",
    "asked whether", "looking for",   "wants",      "needs",     "concerned",   "worried",
    "pushed back",   "objected",      "complained", "requested", "requirement", "they mentioned",
    "buyer said",    "customer said", "they said",  nullptr};

const char* const kSmallTalkWords[] = {
    // Greetings, thanks, agreement.
    "hi", "hello", "hey", "morning", "afternoon", "evening", "thanks", "thank", "great", "good",
    "fine", "okay", "ok", "sure", "sounds", "glad", "nice", "welcome", "sorry", "worries",
    "appreciate", "congrats", "congratulations", "cheers", "anyway", "honestly", "loud", "clear",
    // Scheduling and the call itself.
    "time", "minute", "minutes", "hour", "hours", "today", "tomorrow", "yesterday", "week",
    "weekend", "month", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday",
    "sunday", "late", "early", "start", "started", "join", "joined", "call", "meeting", "talk",
    "talking", "chat", "catch", "run", "email", "send", "recap", "review", "internally", "next",
    "later", "go", "ahead", "let", "keep", "another", "everyone", "hear", "busy", "tired",
    // Travel, weather, family, hobbies, office.
    "flight", "delayed", "trip", "travel", "conference", "weather", "rain", "snow", "snowing",
    "sunny", "grey", "cold", "hot", "holiday", "vacation", "kids", "family", "fun", "coffee",
    "lunch", "dinner", "hiking", "plans", "office", "boxes", "unpacking", "barely", nullptr};

std::vector<DocumentFacts> DocumentsOf(const IngestRequest& request) {
  std::vector<DocumentFacts> docs;
  switch (request.record_case()) {
    case IngestRequest::kFeedbackEvent: {
      const auto& e = request.feedback_event();
      DocumentFacts f;
      f.record_id = e.id();
      f.text = e.text();
      f.region = e.region();
      f.segment = e.segment();
      f.source = SourceName(e.source());
      f.unix_seconds = e.occurred_at().seconds();
      f.deal_id = e.has_deal_id() ? e.deal_id() : "";
      docs.push_back(std::move(f));
      break;
    }
    case IngestRequest::kCallTranscript: {
      const auto& t = request.call_transcript();
      for (const auto& u : t.utterances()) {
        const bool buyer = u.speaker() == fieldloop::v1::SPEAKER_BUYER;
        if (!buyer && u.speaker() != fieldloop::v1::SPEAKER_REP) continue;
        for (std::string& sentence : Sentences(u.text())) {
          if (!buyer && !ReportsNeed(sentence)) continue;
          DocumentFacts f;
          f.record_id = t.id();
          f.text = std::move(sentence);
          f.region = t.region();
          f.segment = t.segment();
          f.source = "call";
          f.from_transcript = true;
          f.unix_seconds = t.occurred_at().seconds();
          f.deal_id = t.deal_id();
          docs.push_back(std::move(f));
        }
      }
      break;
    }
    case IngestRequest::kWinLossNote: {
      const auto& w = request.win_loss_note();
      for (const std::string& objection : w.objections()) {
        DocumentFacts f;
        f.record_id = w.id();
        f.text = objection;
        f.region = w.region();
        f.segment = w.segment();
        f.source = "win_loss";
        f.unix_seconds = w.closed_at().seconds();
        f.from_win_loss = true;
        f.outcome = OutcomeName(w.outcome());
        f.deal_id = w.deal_id();
        f.amount = w.amount();
        f.competitors.assign(w.competitors().begin(), w.competitors().end());
        docs.push_back(std::move(f));
      }
      break;
    }
    default:
      break;
  }
  return docs;
}

const char* const kFramingWords[] = {
    // Channels and occasions.
    "call", "calls", "notes", "note", "disco", "demo", "ride", "along", "rode", "shadowed",
    "observed", "meeting", "manager", "enablement", "session", "cert", "roleplay", "huddle", "qbr",
    "training", "office", "hours", "slack", "survey", "answer", "email", "interview", "feedback",
    "field", "team", "win", "loss", "debrief", "standup", "workshop", "webinar", "voicemail",
    "chat", "thread", "channel", "quick", "today", "follow",
    // Reporting verbs.
    "said", "says", "told", "wrote", "posted", "came", "raised", "heard", nullptr};

namespace {

// The stems of a nullptr-terminated word list, normalized like the text they are matched in.
absl::flat_hash_set<std::string> StemSet(const char* const* words, TextNormalizer& normalizer) {
  absl::flat_hash_set<std::string> stems;
  for (const char* const* word = words; *word != nullptr; ++word) {
    for (const Term& t : normalizer.Normalize(*word)) stems.insert(t.stem);
  }
  return stems;
}

}  // namespace

ThemeModel::ThemeModel(ModelOptions options)
    : normalizer_(options.normalizer),
      clusterer_(options.clusterer),
      small_talk_stems_(StemSet(kSmallTalkWords, normalizer_)),
      framing_stems_(StemSet(kFramingWords, normalizer_)) {}

size_t ThemeModel::FramingEnd(const std::string& text) {
  // The clause ends at the first separator; only the first is considered.
  size_t end = std::string::npos, body = 0;
  for (const char* sep : {": ", " - ", ". "}) {
    const size_t at = text.find(sep);
    if (at != std::string::npos && at < end) {
      end = at;
      body = at + std::strlen(sep);
    }
  }
  if (end == std::string::npos || end == 0 || body >= text.size()) return 0;
  const std::vector<absl::string_view> words =
      absl::StrSplit(absl::string_view(text).substr(0, end), ' ', absl::SkipEmpty());
  if (words.size() > 8) return 0;
  auto capitalized = [&](size_t i) {
    const unsigned char first = static_cast<unsigned char>(words[i][0]);
    return absl::ascii_isupper(first) || first >= 0x80;
  };
  int framing = 0;
  for (size_t i = 0; i < words.size(); ++i) {
    // A capitalized word is a name, but every sentence starts with one: the first word is
    // a name only when the next one is capitalized too ("Redwood Dental call: "). A
    // channel or handle ("(#deal-desk)", "@ana") names a place too.
    const bool name = (capitalized(i) && (i > 0 || (words.size() > 1 && capitalized(1)))) ||
                      absl::StrContains(words[i], '#') || absl::StrContains(words[i], '@');
    for (const Term& t : normalizer_.Normalize(words[i])) {
      if (framing_stems_.contains(t.stem)) {
        ++framing;
      } else if (!name) {
        return 0;
      }
    }
  }
  return framing > 0 ? body : 0;
}

bool ThemeModel::IsSmallTalk(const std::vector<Term>& terms) const {
  int substantive = 0;
  for (const Term& t : terms) {
    if (!IsNumber(t.stem) && !small_talk_stems_.contains(t.stem)) ++substantive;
  }
  return substantive < 2;
}

ThemeId ThemeModel::AssignDocument(const DocumentFacts& facts, const std::string* tag) {
  // A feedback note's framing clause says where it came from, not what was heard.
  const bool feedback = !facts.from_transcript && !facts.from_win_loss;
  std::vector<Term> terms = normalizer_.Normalize(
      feedback ? absl::string_view(facts.text).substr(FramingEnd(facts.text)) : facts.text);
  // A tagged text always joins its tag's theme. Other texts need a term; transcript
  // sentences need three ("Sounds good." or "Loud and clear." have two at most), two of
  // them outside kSmallTalkWords.
  if (tag == nullptr &&
      (terms.empty() || (facts.from_transcript && (terms.size() < 3 || IsSmallTalk(terms))))) {
    return -1;
  }
  const TermCounts counts = clusterer_.InternAndCount(terms);
  const ThemeId theme =
      tag != nullptr ? clusterer_.AssignTagged(counts, *tag) : clusterer_.Assign(counts);
  if (theme < 0) return -1;
  // Fold the merges the clusterer made meanwhile (the document's own theme may be among
  // them) into the book, then book the document where it lives now.
  for (const auto& [from, into] : clusterer_.TakeMerges()) book_.Merge(from, into);
  const ThemeId live = clusterer_.Resolve(theme);
  book_.Add(live, facts, terms, clusterer_.Closeness(live, counts));
  return live;
}

std::vector<ThemeId> ThemeModel::Apply(const IngestRequest& request) {
  if (inputs_) CountInput(request, &*inputs_);
  std::vector<ThemeId> themes;
  const std::string* tag = nullptr;
  if (request.has_feedback_event() && request.feedback_event().has_theme_tag()) {
    tag = &request.feedback_event().theme_tag();
  }
  for (const DocumentFacts& facts : DocumentsOf(request)) {
    const ThemeId theme = AssignDocument(facts, tag);
    if (theme >= 0) themes.push_back(theme);
  }
  return themes;
}

ThemeModel::Changes ThemeModel::TakeChanges() {
  Changes changes;
  std::vector<ThemeId> themes;
  std::vector<TermId> terms;
  clusterer_.TakeChanged(&themes, &terms);
  for (ThemeId z : themes) {
    state::ThemeState& s = changes.themes.emplace_back();
    clusterer_.ExportTheme(z, &s);
    book_.ExportTheme(z, s.mutable_book());
  }
  for (TermId t : terms) {
    state::TermState& s = changes.terms.emplace_back();
    clusterer_.ExportTerm(t, &s);
    book_.ExportSurfaces(clusterer_.StemOf(t), &s);
  }
  clusterer_.ExportGlobals(&changes.globals);
  if (inputs_) *changes.globals.mutable_inputs() = *inputs_;
  return changes;
}

void ThemeModel::Import(const state::ClustererGlobals& globals,
                        const std::vector<state::TermState>& terms,
                        const std::vector<state::ThemeState>& themes) {
  clusterer_.ImportGlobals(globals);
  inputs_.reset();
  if (globals.has_inputs()) inputs_ = globals.inputs();
  for (const auto& t : terms) {
    clusterer_.ImportTerm(t);
    book_.ImportSurfaces(t);
  }
  for (const auto& z : themes) {
    clusterer_.ImportTheme(z);
    book_.ImportTheme(z.id(), z.book());
  }
}

std::optional<ThemeSummary> ThemeModel::Summary(ThemeId theme) const {
  if (theme < 0 || clusterer_.Resolve(theme) != theme) return std::nullopt;
  return book_.Summarize(theme, clusterer_);
}

std::vector<ThemeSummary> ThemeModel::Summaries() const {
  std::vector<ThemeSummary> out;
  for (ThemeId z : clusterer_.LiveThemes()) out.push_back(book_.Summarize(z, clusterer_));
  return out;
}

}  // namespace fieldloop::pipeline
