// Fuzz target: text normalization (pipeline/text_normalizer.h).
// Invariants: no crash; Fold returns well-formed UTF-8; every term has a non-empty stem and
// surface, both well-formed UTF-8 without spaces (unigrams); bigrams are exactly one fewer
// than the unigrams and join their neighbours' stems with '_'.
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/string_view.h"
#include "pipeline/record_validator.h"
#include "pipeline/text_normalizer.h"
#include "tests/fuzz/fuzz_targets.h"

namespace fieldloop::fuzz {

int FuzzTextNormalizer(const uint8_t* data, size_t size) {
  const absl::string_view text(reinterpret_cast<const char*>(data), size);
  FUZZ_CHECK(pipeline::IsValidUtf8(pipeline::TextNormalizer::Fold(text)));

  // One normalizer per kind for the whole process, as a server thread would keep one.
  static pipeline::TextNormalizer* plain = new pipeline::TextNormalizer();
  static pipeline::TextNormalizer* with_bigrams =
      new pipeline::TextNormalizer(pipeline::NormalizerOptions{.bigrams = true});

  const std::vector<pipeline::Term> unigrams = plain->Normalize(text);
  for (const pipeline::Term& t : unigrams) {
    FUZZ_CHECK(!t.stem.empty());
    FUZZ_CHECK(t.surface.size() >= 2);
    FUZZ_CHECK(pipeline::IsValidUtf8(t.stem) && pipeline::IsValidUtf8(t.surface));
    FUZZ_CHECK(!absl::StrContains(t.surface, ' ') && !absl::StrContains(t.stem, ' '));
  }
  const std::vector<pipeline::Term> all = with_bigrams->Normalize(text);
  const size_t n = unigrams.size();
  FUZZ_CHECK(all.size() == (n == 0 ? 0 : 2 * n - 1));
  for (size_t i = 0; i < n; ++i) {
    FUZZ_CHECK(all[i].stem == unigrams[i].stem && all[i].surface == unigrams[i].surface);
  }
  for (size_t i = 0; i + 1 < n; ++i) {
    FUZZ_CHECK(all[n + i].stem == unigrams[i].stem + "_" + unigrams[i + 1].stem);
  }
  return 0;
}

}  // namespace fieldloop::fuzz

FIELDLOOP_FUZZ_ENTRY(fieldloop::fuzz::FuzzTextNormalizer)
