// PII redactor: masks personal contact data in free text before it is shown (board quotes,
// proof points, the Themes API). Pure. Rules (docs/analysis.md, "Personal data"):
// - an e-mail address (local part of letters, digits and . _ % + -, an '@', a domain with
//   a dot and a final label of two or more letters) becomes "[email]";
// - a phone number (7 to 15 digits, optionally starting with '+', in groups separated by
//   single spaces, dashes, dots or parentheses; a run of digits that only spaces separate, or
//   none, needs 9 or more, so "10 20 30 40" stays) becomes
//   "[phone]". A date YYYY-MM-DD is not a phone number, nor is a number glued to a letter
//   ("110k", "v2").
#ifndef FIELDLOOP_PIPELINE_PII_REDACTOR_H_
#define FIELDLOOP_PIPELINE_PII_REDACTOR_H_

#include <string>

#include "absl/strings/string_view.h"

namespace fieldloop::pipeline {

std::string RedactPii(absl::string_view text);

}  // namespace fieldloop::pipeline

#endif  // FIELDLOOP_PIPELINE_PII_REDACTOR_H_
