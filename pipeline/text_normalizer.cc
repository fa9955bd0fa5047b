#include "pipeline/text_normalizer.h"

#include <cstdlib>

#include "absl/container/flat_hash_set.h"
#include "libstemmer.h"
#include "utf8proc.h"

namespace fieldloop::pipeline {
namespace {

// English stop words: Snowball's English list plus common contractions without apostrophes
// and a few words that carry no topic in short feedback.
const absl::flat_hash_set<absl::string_view>& StopWords() {
  static const auto* words = new absl::flat_hash_set<absl::string_view>{
      "a",          "about",  "above",     "after",   "again",    "against",    "all",    "am",
      "an",         "and",    "any",       "are",     "arent",    "as",         "at",     "be",
      "because",    "been",   "before",    "being",   "below",    "between",    "both",   "but",
      "by",         "can",    "cant",      "cannot",  "could",    "couldnt",    "did",    "didnt",
      "do",         "does",   "doesnt",    "doing",   "dont",     "down",       "during", "each",
      "few",        "for",    "from",      "further", "had",      "hadnt",      "has",    "hasnt",
      "have",       "havent", "having",    "he",      "hed",      "hell",       "hes",    "her",
      "here",       "heres",  "hers",      "herself", "him",      "himself",    "his",    "how",
      "hows",       "i",      "id",        "ill",     "im",       "ive",        "if",     "in",
      "into",       "is",     "isnt",      "it",      "its",      "itself",     "lets",   "me",
      "more",       "most",   "mustnt",    "my",      "myself",   "no",         "nor",    "not",
      "of",         "off",    "on",        "once",    "only",     "or",         "other",  "ought",
      "our",        "ours",   "ourselves", "out",     "over",     "own",        "same",   "shant",
      "she",        "shed",   "shell",     "shes",    "should",   "shouldnt",   "so",     "some",
      "such",       "than",   "that",      "thats",   "the",      "their",      "theirs", "them",
      "themselves", "then",   "there",     "theres",  "these",    "they",       "theyd",  "theyll",
      "theyre",     "theyve", "this",      "those",   "through",  "to",         "too",    "under",
      "until",      "up",     "very",      "was",     "wasnt",    "we",         "wed",    "well",
      "were",       "weve",   "werent",    "what",    "whats",    "when",       "whens",  "where",
      "wheres",     "which",  "while",     "who",     "whos",     "whom",       "why",    "whys",
      "will",       "with",   "wont",      "would",   "wouldnt",  "you",        "youd",   "youll",
      "youre",      "youve",  "your",      "yours",   "yourself", "yourselves", "also",   "just",
      "get",        "got",    "us",        "s",       "t",        "can",        "will",   "may",
      "might",      "must",   "shall",     "one",     "yes",      "ok",         "okay",   "like",
      "really",     "via",    "etc",       "amp",     "rt",       "http",       "https",  "www",
      "com"};
  return *words;
}

bool IsWordChar(utf8proc_int32_t cp) {
  switch (utf8proc_category(cp)) {
    case UTF8PROC_CATEGORY_LU:
    case UTF8PROC_CATEGORY_LL:
    case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM:
    case UTF8PROC_CATEGORY_LO:
    case UTF8PROC_CATEGORY_ND:
    case UTF8PROC_CATEGORY_NL:
    case UTF8PROC_CATEGORY_NO:
    case UTF8PROC_CATEGORY_MN:
      return true;
    default:
      return false;
  }
}

bool IsApostrophe(utf8proc_int32_t cp) { return cp == '\'' || cp == 0x2019 || cp == 0x02bc; }

void AppendUtf8(std::string* out, utf8proc_int32_t cp) {
  utf8proc_uint8_t buf[4];
  const utf8proc_ssize_t n = utf8proc_encode_char(cp, buf);
  out->append(reinterpret_cast<const char*>(buf), n);
}

}  // namespace

TextNormalizer::TextNormalizer(NormalizerOptions options)
    : options_(options), stemmer_(sb_stemmer_new("english", nullptr)) {}

TextNormalizer::~TextNormalizer() {
  if (stemmer_ != nullptr) sb_stemmer_delete(stemmer_);
}

std::string TextNormalizer::Fold(absl::string_view text) {
  // Drop invalid bytes first: utf8proc refuses the whole string otherwise.
  std::string valid;
  valid.reserve(text.size());
  const auto* p = reinterpret_cast<const utf8proc_uint8_t*>(text.data());
  utf8proc_ssize_t left = static_cast<utf8proc_ssize_t>(text.size());
  while (left > 0) {
    utf8proc_int32_t cp;
    const utf8proc_ssize_t n = utf8proc_iterate(p, left, &cp);
    if (n <= 0) {
      ++p;
      --left;
      valid.push_back(' ');
      continue;
    }
    valid.append(reinterpret_cast<const char*>(p), n);
    p += n;
    left -= n;
  }
  utf8proc_uint8_t* mapped = nullptr;
  const utf8proc_ssize_t n = utf8proc_map(
      reinterpret_cast<const utf8proc_uint8_t*>(valid.data()),
      static_cast<utf8proc_ssize_t>(valid.size()), &mapped,
      static_cast<utf8proc_option_t>(UTF8PROC_STABLE | UTF8PROC_COMPOSE | UTF8PROC_COMPAT |
                                     UTF8PROC_CASEFOLD | UTF8PROC_STRIPMARK | UTF8PROC_IGNORE));
  if (n < 0 || mapped == nullptr) return valid;
  std::string out(reinterpret_cast<const char*>(mapped), n);
  std::free(mapped);
  return out;
}

bool IsNumber(absl::string_view term) {
  if (term.empty()) return false;
  for (char c : term) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

std::string TextNormalizer::Stem(const std::string& word) {
  const sb_symbol* s = sb_stemmer_stem(stemmer_, reinterpret_cast<const sb_symbol*>(word.data()),
                                       static_cast<int>(word.size()));
  if (s == nullptr) return word;
  return std::string(reinterpret_cast<const char*>(s), sb_stemmer_length(stemmer_));
}

std::vector<Term> TextNormalizer::Normalize(absl::string_view text) {
  const std::string folded = Fold(text);
  // Split into words: runs of word characters; an apostrophe between word characters is
  // dropped (joining the parts); anything else separates.
  std::vector<std::string> words;
  std::string word;
  const auto* p = reinterpret_cast<const utf8proc_uint8_t*>(folded.data());
  utf8proc_ssize_t left = static_cast<utf8proc_ssize_t>(folded.size());
  bool after_apostrophe = false;
  auto flush = [&] {
    if (!word.empty()) words.push_back(std::move(word));
    word.clear();
    after_apostrophe = false;
  };
  while (left > 0) {
    utf8proc_int32_t cp;
    const utf8proc_ssize_t n = utf8proc_iterate(p, left, &cp);
    if (n <= 0) break;
    p += n;
    left -= n;
    if (IsWordChar(cp)) {
      AppendUtf8(&word, cp);
      after_apostrophe = false;
    } else if (IsApostrophe(cp) && !word.empty() && !after_apostrophe) {
      // "buyer's" -> "buyer": a trailing 's after an apostrophe is a possessive.
      utf8proc_int32_t next = 0;
      const utf8proc_ssize_t m = left > 0 ? utf8proc_iterate(p, left, &next) : 0;
      if (m > 0 && next == 's') {
        utf8proc_int32_t after = 0;
        const utf8proc_ssize_t k = left > m ? utf8proc_iterate(p + m, left - m, &after) : 0;
        if (k <= 0 || !IsWordChar(after)) {
          p += m;
          left -= m;
          flush();
          continue;
        }
      }
      after_apostrophe = true;  // "don't" -> "dont".
    } else {
      flush();
    }
  }
  flush();

  std::vector<Term> terms;
  terms.reserve(words.size() * (options_.bigrams ? 2 : 1));
  for (std::string& w : words) {
    if (w.size() < 2 || StopWords().contains(w)) continue;
    if (IsNumber(w) && w.size() > 4) continue;
    terms.push_back(Term{Stem(w), std::move(w)});
  }
  if (options_.bigrams) {
    const size_t unigrams = terms.size();
    for (size_t i = 0; i + 1 < unigrams; ++i) {
      terms.push_back(Term{terms[i].stem + "_" + terms[i + 1].stem,
                           terms[i].surface + " " + terms[i + 1].surface});
    }
  }
  return terms;
}

}  // namespace fieldloop::pipeline
