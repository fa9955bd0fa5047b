// Clustering quality against reference labels: NMI, ARI and purity.
#ifndef FIELDLOOP_PIPELINE_CLUSTER_METRICS_H_
#define FIELDLOOP_PIPELINE_CLUSTER_METRICS_H_

#include <cstdint>
#include <vector>

namespace fieldloop::pipeline {

struct ClusterScores {
  // Normalized mutual information, I(L;C) / ((H(L) + H(C)) / 2) (scikit-learn's default
  // "arithmetic" normalization). 1 when both partitions are a single cluster.
  double nmi = 0;
  // Adjusted Rand index (Hubert & Arabie). 1 for identical partitions.
  double ari = 0;
  // Share of documents whose cluster's majority label is their own label.
  double purity = 0;
  int64_t clusters = 0;
  int64_t labels = 0;
};

// Scores `clusters` against `labels` (same length, one entry per document; values are
// arbitrary ids). Returns all zeros for empty input.
ClusterScores ScoreClustering(const std::vector<int64_t>& labels,
                              const std::vector<int64_t>& clusters);

}  // namespace fieldloop::pipeline

#endif  // FIELDLOOP_PIPELINE_CLUSTER_METRICS_H_
