#include "pipeline/cluster_metrics.h"

#include <cmath>
#include <map>
#include <utility>

namespace fieldloop::pipeline {
namespace {

// Ordered maps: the floating-point sums below run in key order, so the scores are the same
// in every process (hash-map order is salted per process).
double Entropy(const std::map<int64_t, int64_t>& counts, double n) {
  double h = 0;
  for (const auto& [key, c] : counts) {
    const double p = c / n;
    h -= p * std::log(p);
  }
  return h;
}

double Choose2(double x) { return x * (x - 1) / 2; }

}  // namespace

ClusterScores ScoreClustering(const std::vector<int64_t>& labels,
                              const std::vector<int64_t>& clusters) {
  ClusterScores s;
  const size_t n = std::min(labels.size(), clusters.size());
  if (n == 0) return s;
  std::map<int64_t, int64_t> label_counts, cluster_counts;
  std::map<std::pair<int64_t, int64_t>, int64_t> joint;
  for (size_t i = 0; i < n; ++i) {
    ++label_counts[labels[i]];
    ++cluster_counts[clusters[i]];
    ++joint[{labels[i], clusters[i]}];
  }
  const double N = static_cast<double>(n);
  s.labels = static_cast<int64_t>(label_counts.size());
  s.clusters = static_cast<int64_t>(cluster_counts.size());

  const double h_l = Entropy(label_counts, N);
  const double h_c = Entropy(cluster_counts, N);
  double mi = 0;
  for (const auto& [key, c] : joint) {
    const double nl = label_counts[key.first];
    const double nc = cluster_counts[key.second];
    mi += (c / N) * std::log((c * N) / (nl * nc));
  }
  if (h_l == 0 && h_c == 0) {
    s.nmi = 1.0;  // Both trivial: identical partitions (scikit-learn's convention).
  } else {
    s.nmi = std::max(0.0, mi / ((h_l + h_c) / 2));
  }

  double sum_joint = 0, sum_l = 0, sum_c = 0;
  for (const auto& [key, c] : joint) sum_joint += Choose2(c);
  for (const auto& [key, c] : label_counts) sum_l += Choose2(c);
  for (const auto& [key, c] : cluster_counts) sum_c += Choose2(c);
  const double expected = sum_l * sum_c / Choose2(N);
  const double max_index = (sum_l + sum_c) / 2;
  s.ari = max_index == expected ? 1.0 : (sum_joint - expected) / (max_index - expected);

  std::map<int64_t, int64_t> majority;  // cluster -> largest joint count
  for (const auto& [key, c] : joint) {
    int64_t& m = majority[key.second];
    m = std::max(m, c);
  }
  double correct = 0;
  for (const auto& [cluster, c] : majority) correct += c;
  s.purity = correct / N;
  return s;
}

}  // namespace fieldloop::pipeline
