#include "services/cli/eval_command.h"

#include <chrono>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "pipeline/cluster_metrics.h"
#include "pipeline/labeled_texts.h"
#include "pipeline/text_normalizer.h"
#include "pipeline/theme_clusterer.h"

namespace fieldloop::cli {

int RunEval(const EvalOptions& options, std::FILE* out, std::FILE* err) {
  std::ifstream in(options.file);
  if (!in) {
    std::fprintf(err, "fieldloop eval: cannot read %s\n", options.file.c_str());
    return 1;
  }
  // Parse everything first so that the timing covers clustering, not JSON parsing.
  std::stringstream contents;
  contents << in.rdbuf();
  absl::StatusOr<std::vector<pipeline::LabeledText>> docs =
      pipeline::ParseLabeledTexts(contents.str(), /*require_label=*/true);
  if (!docs.ok()) {
    std::fprintf(err, "fieldloop eval: %s: %s\n", options.file.c_str(),
                 std::string(docs.status().message()).c_str());
    return 1;
  }
  std::vector<std::string> texts;
  std::vector<int64_t> labels;
  absl::flat_hash_map<std::string, int64_t> label_ids;
  for (pipeline::LabeledText& d : *docs) {
    labels.push_back(label_ids.try_emplace(d.label, label_ids.size()).first->second);
    texts.push_back(std::move(d.text));
  }

  pipeline::NormalizerOptions norm_options;
  if (options.bigrams) norm_options.bigrams = *options.bigrams;
  pipeline::ClustererOptions cluster_options;
  if (options.create_threshold) cluster_options.create_threshold = *options.create_threshold;
  if (options.size_gain) cluster_options.size_gain = *options.size_gain;
  if (options.merge_threshold) cluster_options.merge_threshold = *options.merge_threshold;
  if (options.merge_interval) cluster_options.merge_interval = *options.merge_interval;
  if (options.max_terms) cluster_options.max_terms_per_theme = *options.max_terms;
  if (options.fade) cluster_options.fade_half_life = *options.fade;

  const auto start = std::chrono::steady_clock::now();
  pipeline::TextNormalizer normalizer(norm_options);
  pipeline::ThemeClusterer clusterer(cluster_options);
  std::vector<int64_t> assigned(texts.size());
  for (size_t i = 0; i < texts.size(); ++i) {
    const pipeline::ThemeId theme =
        clusterer.Assign(clusterer.InternAndCount(normalizer.Normalize(texts[i])));
    // A text with no terms gets a theme of its own in the score (it is in no theme).
    assigned[i] = theme >= 0 ? theme : -1 - static_cast<int64_t>(i);
  }
  // Score the final themes: a document whose theme was merged away counts in the survivor.
  for (int64_t& theme : assigned) {
    if (theme >= 0) theme = clusterer.Resolve(theme);
  }
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  pipeline::ClusterScores s = pipeline::ScoreClustering(labels, assigned);
  const double docs_per_s = secs > 0 ? texts.size() / secs : 0;
  if (options.json) {
    std::fprintf(out,
                 "{\"nmi\": %.6f, \"ari\": %.6f, \"purity\": %.6f, \"themes\": %zu, \"docs\": %zu, "
                 "\"docs_per_s\": %.1f}\n",
                 s.nmi, s.ari, s.purity, clusterer.num_themes(), texts.size(), docs_per_s);
  } else {
    std::fprintf(out,
                 "%s: %zu documents, %lld labels\n  NMI %.4f  ARI %.4f  purity %.4f  themes %zu  "
                 "%.0f documents/s\n",
                 options.file.c_str(), texts.size(), static_cast<long long>(s.labels), s.nmi, s.ari,
                 s.purity, clusterer.num_themes(), docs_per_s);
  }
  return 0;
}

}  // namespace fieldloop::cli
