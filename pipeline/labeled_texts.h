// Labeled texts: JSON Lines of {"id", "text", "label"} (../shared/datasets format), the input
// of `fieldloop eval` and of the benchmarks. Pure: parses text given to it.
#ifndef FIELDLOOP_PIPELINE_LABELED_TEXTS_H_
#define FIELDLOOP_PIPELINE_LABELED_TEXTS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace fieldloop::pipeline {

struct LabeledText {
  std::string id;
  std::string text;
  std::string label;  // A numeric label is written as its decimal form.
};

// Parses `contents`, one object per non-empty line, in order. InvalidArgument naming the
// line when a line is not a JSON object or lacks "text" (or, with `require_label`, "label").
absl::StatusOr<std::vector<LabeledText>> ParseLabeledTexts(absl::string_view contents,
                                                           bool require_label);

}  // namespace fieldloop::pipeline

#endif  // FIELDLOOP_PIPELINE_LABELED_TEXTS_H_
