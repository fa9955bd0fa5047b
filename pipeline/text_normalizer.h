// TextNormalizer: turns a short text into the terms the clusterer works on.
//
// Rule (docs/clustering.md): Unicode NFKC with case folding and accents stripped
// (utf8proc); tokens are maximal runs of letters and digits, where an apostrophe inside a
// word is dropped ("don't" -> "dont", a trailing "'s" is removed) and a hyphen splits
// ("follow-up" -> "follow", "up"); tokens of one byte (a one-letter ASCII word; a single
// non-ASCII character is kept), English stop words and numbers
// of more than four digits are dropped; the rest is stemmed with the Snowball English
// stemmer (libstemmer). Optionally adjacent kept stems also form bigrams "a_b".
//
// Not thread-safe (the stemmer keeps state); use one normalizer per thread.
#ifndef FIELDLOOP_PIPELINE_TEXT_NORMALIZER_H_
#define FIELDLOOP_PIPELINE_TEXT_NORMALIZER_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

struct sb_stemmer;

namespace fieldloop::pipeline {

struct NormalizerOptions {
  // Also emit bigrams of adjacent kept stems, written "stem1_stem2".
  // Default: false.
  bool bigrams = false;
};

// One kept term: its stem (the clustering key) and the case-folded surface form it came
// from (used for readable labels). Bigrams have surface "word1 word2".
struct Term {
  std::string stem;
  std::string surface;
};

// True when `term` is non-empty and made of ASCII digits only (a number).
bool IsNumber(absl::string_view term);

class TextNormalizer {
 public:
  explicit TextNormalizer(NormalizerOptions options = {});
  ~TextNormalizer();
  TextNormalizer(const TextNormalizer&) = delete;
  TextNormalizer& operator=(const TextNormalizer&) = delete;

  // Returns the terms of `text` in text order (unigrams, then bigrams when enabled).
  // Invalid UTF-8 sequences are skipped.
  std::vector<Term> Normalize(absl::string_view text);

  // Case-folds, NFKC-normalizes and strips accents (the first step of Normalize; also
  // used to match phrases such as ThemeModel's need cues).
  static std::string Fold(absl::string_view text);

 private:
  std::string Stem(const std::string& word);

  NormalizerOptions options_;
  sb_stemmer* stemmer_;
};

}  // namespace fieldloop::pipeline

#endif  // FIELDLOOP_PIPELINE_TEXT_NORMALIZER_H_
