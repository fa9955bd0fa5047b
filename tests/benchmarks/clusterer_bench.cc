// Clusterer benchmark: documents/s of the server's normalization + clusterer (the same
// code as `fieldloop eval`) over ../shared/datasets/news and tweets, single thread, median
// of --runs. Not a test: build with -c opt; ./scripts/bench runs it.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "pipeline/labeled_texts.h"
#include "pipeline/text_normalizer.h"
#include "pipeline/theme_clusterer.h"

ABSL_FLAG(std::string, datasets, "../shared/datasets",
          "Directory holding news/data.jsonl and tweets/data.jsonl.");
ABSL_FLAG(int, runs, 3, "Runs per dataset; the median is reported.");
ABSL_FLAG(bool, json, false, "Print one JSON object instead of a table.");

namespace {

std::vector<std::string> LoadTexts(const std::string& path) {
  std::ifstream in(path);
  std::stringstream contents;
  contents << in.rdbuf();
  std::vector<std::string> texts;
  auto docs = fieldloop::pipeline::ParseLabeledTexts(contents.str(), /*require_label=*/false);
  if (docs.ok()) {
    for (auto& d : *docs) texts.push_back(std::move(d.text));
  }
  return texts;
}

double DocsPerSecond(const std::vector<std::string>& texts) {
  const auto start = std::chrono::steady_clock::now();
  fieldloop::pipeline::TextNormalizer normalizer;
  fieldloop::pipeline::ThemeClusterer clusterer;
  for (const std::string& text : texts) {
    clusterer.Assign(clusterer.InternAndCount(normalizer.Normalize(text)));
  }
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return texts.size() / secs;
}

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  std::vector<std::string> json;
  for (const char* name : {"news", "tweets"}) {
    const std::string path = absl::StrCat(absl::GetFlag(FLAGS_datasets), "/", name, "/data.jsonl");
    std::vector<std::string> texts = LoadTexts(path);
    if (texts.empty()) {
      std::fprintf(stderr, "clusterer_bench: no documents in %s (--datasets?)\n", path.c_str());
      return 1;
    }
    std::vector<double> rates;
    for (int r = 0; r < absl::GetFlag(FLAGS_runs); ++r) rates.push_back(DocsPerSecond(texts));
    std::sort(rates.begin(), rates.end());
    const double median = rates[rates.size() / 2];
    if (absl::GetFlag(FLAGS_json)) {
      json.push_back(
          absl::StrCat("\"clusterer_", name, "_docs_per_s\": ", static_cast<int64_t>(median)));
    } else {
      std::printf("clusterer %-8s %7zu docs  %10.0f docs/s (median of %d, min %.0f, max %.0f)\n",
                  name, texts.size(), median, absl::GetFlag(FLAGS_runs), rates.front(),
                  rates.back());
    }
  }
  if (absl::GetFlag(FLAGS_json)) std::printf("{%s}\n", absl::StrJoin(json, ", ").c_str());
  return 0;
}
