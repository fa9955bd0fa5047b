// Helpers shared by the fuzz targets.
#ifndef FIELDLOOP_TESTS_FUZZ_FUZZ_UTIL_H_
#define FIELDLOOP_TESTS_FUZZ_FUZZ_UTIL_H_

#include <cstddef>

#include "absl/strings/string_view.h"

namespace fieldloop::fuzz {

// The number of lines of `text` as the parsers count them: one more than its LF count.
inline int LineCount(absl::string_view text) {
  int lines = 1;
  for (char c : text) lines += c == '\n';
  return lines;
}

// True when `s` has no leading or trailing ASCII whitespace.
inline bool IsTrimmed(absl::string_view s) {
  auto space = [](char c) {
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v';
  };
  return s.empty() || (!space(s.front()) && !space(s.back()));
}

}  // namespace fieldloop::fuzz

#endif  // FIELDLOOP_TESTS_FUZZ_FUZZ_UTIL_H_
