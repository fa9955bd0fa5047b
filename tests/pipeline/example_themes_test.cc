// How well the themes of the bundled example (examples/q3-push) recover the themes its
// generator planted (examples/q3-push/planted_themes.csv, one row per feedback event).
// Transcripts and win/loss notes are applied too, in the order `fieldloop run` applies
// them, but only feedback events carry a planted theme.
#include <cstdio>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "pipeline/cluster_metrics.h"
#include "pipeline/theme_model.h"
#include "tests/testing/example_records.h"
#include "tests/testing/subprocess.h"

namespace fieldloop::pipeline {
namespace {

std::map<std::string, std::string> PlantedThemes() {
  std::map<std::string, std::string> out;
  std::ifstream in(testing::Runfile("examples/q3-push/planted_themes.csv"));
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    const size_t comma = line.find(',');
    if (comma != std::string::npos) out[line.substr(0, comma)] = line.substr(comma + 1);
  }
  return out;
}

TEST(ExampleThemes, RecoverThePlantedThemes) {
  const std::map<std::string, std::string> planted = PlantedThemes();
  ASSERT_EQ(planted.size(), 242u);

  ThemeModel model;
  std::map<std::string, ThemeId> assigned;
  for (const fieldloop::v1::IngestRequest& r : testing::ExampleRecords()) {
    const std::vector<ThemeId> joined = model.Apply(r);
    if (r.has_feedback_event() && !joined.empty()) assigned[r.feedback_event().id()] = joined[0];
  }
  std::map<std::string, int64_t> label_ids;
  std::vector<int64_t> labels, clusters;
  for (const auto& [id, theme] : planted) {
    auto it = assigned.find(id);
    ASSERT_NE(it, assigned.end()) << id;
    labels.push_back(label_ids.emplace(theme, label_ids.size()).first->second);
    clusters.push_back(model.clusterer().Resolve(it->second));
  }
  const ClusterScores s = ScoreClustering(labels, clusters);
  int64_t big = 0;
  for (const ThemeSummary& t : model.Summaries()) big += t.mentions >= 3 ? 1 : 0;
  std::printf(
      "example themes: nmi %.3f ari %.3f purity %.3f, feedback themes %lld, "
      "live themes %zu (%lld with >= 3 documents)\n",
      s.nmi, s.ari, s.purity, static_cast<long long>(s.clusters), model.Summaries().size(),
      static_cast<long long>(big));
  // Measured 2026-11-25: nmi 0.545, purity 0.645 (0.469 and 0.541 before feedback notes
  // framing clauses were left out of clustering). A floor, to catch a regression.
  EXPECT_GE(s.nmi, 0.50);
  EXPECT_GE(s.purity, 0.60);
}

}  // namespace
}  // namespace fieldloop::pipeline
