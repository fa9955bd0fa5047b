#include "pipeline/pii_redactor.h"

#include "absl/strings/ascii.h"

namespace fieldloop::pipeline {
namespace {

bool IsLocalChar(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '%' ||
         c == '+' || c == '-';
}
bool IsDomainChar(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-';
}
bool IsDigit(char c) { return absl::ascii_isdigit(static_cast<unsigned char>(c)); }
bool IsAlnum(char c) { return absl::ascii_isalnum(static_cast<unsigned char>(c)); }

// The end of an e-mail address whose '@' is at `at`, given its start; 0 when it is none.
size_t EmailEnd(absl::string_view t, size_t start, size_t at) {
  if (start == at) return 0;
  size_t end = at + 1;
  while (end < t.size() && IsDomainChar(t[end])) ++end;
  while (end > at + 1 && (t[end - 1] == '.' || t[end - 1] == '-')) --end;  // "a@b.com."
  const absl::string_view domain = t.substr(at + 1, end - at - 1);
  const size_t dot = domain.rfind('.');
  if (dot == absl::string_view::npos || dot == 0 || domain.size() - dot - 1 < 2) return 0;
  for (char c : domain.substr(dot + 1)) {
    if (!absl::ascii_isalpha(static_cast<unsigned char>(c))) return 0;
  }
  return end;
}

// The end of a phone number starting at `start` (a digit, '+' or '('); 0 when it is none.
size_t PhoneEnd(absl::string_view t, size_t start) {
  size_t i = start, digits = 0, last_digit_end = 0;
  bool separated = false;  // By a dash, dot or parenthesis (not only by spaces).
  if (t[i] == '+') ++i;
  while (i < t.size()) {
    const char c = t[i];
    if (IsDigit(c)) {
      ++digits;
      last_digit_end = ++i;
      continue;
    }
    const bool sep = c == ' ' || c == '-' || c == '.' || c == '(' || c == ')';
    // A separator must be followed by a digit, or by '(' / ' (' as in "+1 (415)".
    if (!sep || i + 1 >= t.size()) break;
    const char next = t[i + 1];
    if (!IsDigit(next) && !(next == '(' && c == ' ') && !(c == ')' && next == ' ')) break;
    if (c != ' ' && (c != '(' || digits > 0)) separated = true;
    ++i;
  }
  if (last_digit_end == 0 || digits < 7 || digits > 15) return 0;
  if (last_digit_end < t.size() && IsAlnum(t[last_digit_end])) return 0;  // "12345678k".
  // Numbers in a list ("10 20 30 40") are spaced too: spaces alone need 9 digits.
  if (!separated && t[start] != '+' && digits < 9) return 0;
  const absl::string_view run = t.substr(start, last_digit_end - start);
  const bool date = run.size() == 10 && run[4] == '-' && run[7] == '-' && digits == 8;
  return date ? 0 : last_digit_end;
}

}  // namespace

std::string RedactPii(absl::string_view t) {
  std::string out;
  out.reserve(t.size());
  size_t i = 0;
  while (i < t.size()) {
    const char c = t[i];
    // An e-mail address: its '@' seen from the start of the word before it.
    if (IsLocalChar(c) && (i == 0 || !IsLocalChar(t[i - 1]))) {
      size_t at = i;
      while (at < t.size() && IsLocalChar(t[at])) ++at;
      if (at < t.size() && t[at] == '@') {
        if (const size_t end = EmailEnd(t, i, at); end != 0) {
          out += "[email]";
          i = end;
          continue;
        }
      }
    }
    if ((IsDigit(c) || c == '+' || c == '(') && (i == 0 || !IsAlnum(t[i - 1]))) {
      if (const size_t end = PhoneEnd(t, i); end != 0) {
        out += "[phone]";
        i = end;
        continue;
      }
    }
    out.push_back(c);
    ++i;
  }
  return out;
}

}  // namespace fieldloop::pipeline
