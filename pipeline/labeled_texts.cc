#include "pipeline/labeled_texts.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"

namespace fieldloop::pipeline {
namespace {

std::string AsString(const google::protobuf::Value& v) {
  return v.has_string_value() ? v.string_value() : absl::StrCat(v.number_value());
}

}  // namespace

absl::StatusOr<std::vector<LabeledText>> ParseLabeledTexts(absl::string_view contents,
                                                           bool require_label) {
  std::vector<LabeledText> out;
  int line_no = 0;
  for (absl::string_view line : absl::StrSplit(contents, '\n')) {
    ++line_no;
    if (line.empty() || line == "\r") continue;
    google::protobuf::Struct doc;
    if (!google::protobuf::util::JsonStringToMessage(
             google::protobuf::StringPiece(line.data(), line.size()), &doc)
             .ok()) {
      return absl::InvalidArgumentError(absl::StrCat("line ", line_no, ": not a JSON object"));
    }
    const auto& f = doc.fields();
    auto text = f.find("text");
    auto label = f.find("label");
    if (text == f.end() || (require_label && label == f.end())) {
      return absl::InvalidArgumentError(absl::StrCat(
          "line ", line_no, require_label ? ": needs \"text\" and \"label\"" : ": needs \"text\""));
    }
    LabeledText t;
    auto id = f.find("id");
    if (id != f.end()) t.id = AsString(id->second);
    t.text = text->second.string_value();
    if (label != f.end()) t.label = AsString(label->second);
    out.push_back(std::move(t));
  }
  return out;
}

}  // namespace fieldloop::pipeline
