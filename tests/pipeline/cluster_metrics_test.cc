#include "pipeline/cluster_metrics.h"

#include <cmath>

#include "gtest/gtest.h"

namespace fieldloop::pipeline {
namespace {

TEST(ClusterMetrics, HandComputedSixDocuments) {
  // Labels {0,0,0 | 1,1,1}, clusters {0,0 | 1,1 | 2,2}.
  // H(L) = ln 2, H(C) = ln 3; joint cells (0,0)=2 (0,1)=1 (1,1)=1 (1,2)=2, so
  // I = 2 * (2/6) ln((2/6) / (1/2 * 1/3)) = (2/3) ln 2 and
  // NMI = (2/3) ln 2 / ((ln 2 + ln 3) / 2) = 0.51580374...
  // ARI: sum C(n_ij,2) = 2, sum C(a_i,2) = 6, sum C(b_j,2) = 3, C(6,2) = 15,
  // expected = 6 * 3 / 15 = 1.2, max = 4.5, ARI = 0.8 / 3.3 = 0.24242424...
  // Purity: majorities 2 + 1 + 2 = 5 of 6.
  ClusterScores s = ScoreClustering({0, 0, 0, 1, 1, 1}, {0, 0, 1, 1, 2, 2});
  EXPECT_NEAR(s.nmi, (2.0 / 3.0) * std::log(2.0) / ((std::log(2.0) + std::log(3.0)) / 2), 1e-12);
  EXPECT_NEAR(s.nmi, 0.5158037429793888, 1e-12);  // scikit-learn 1.2.1 agrees.
  EXPECT_NEAR(s.ari, 0.8 / 3.3, 1e-12);
  EXPECT_NEAR(s.purity, 5.0 / 6.0, 1e-12);
  EXPECT_EQ(s.clusters, 3);
  EXPECT_EQ(s.labels, 2);
}

TEST(ClusterMetrics, ArbitraryIdsSevenDocuments) {
  // Values checked against scikit-learn 1.2.1 (normalized_mutual_info_score,
  // adjusted_rand_score) for the same vectors.
  ClusterScores s = ScoreClustering({1, 1, 2, 2, 3, 3, 3}, {5, 5, 5, 6, 6, 7, 7});
  EXPECT_NEAR(s.nmi, 0.5636355530993445, 1e-12);
  EXPECT_NEAR(s.ari, 0.2125, 1e-12);
  EXPECT_NEAR(s.purity, 5.0 / 7.0, 1e-12);
}

TEST(ClusterMetrics, IdenticalPartitionsScoreOne) {
  ClusterScores s = ScoreClustering({1, 1, 2, 3}, {9, 9, 4, 7});
  EXPECT_NEAR(s.nmi, 1.0, 1e-12);
  EXPECT_NEAR(s.ari, 1.0, 1e-12);
  EXPECT_NEAR(s.purity, 1.0, 1e-12);
}

TEST(ClusterMetrics, OneClusterForEverythingHasNoInformation) {
  ClusterScores s = ScoreClustering({1, 2, 3, 4}, {0, 0, 0, 0});
  EXPECT_NEAR(s.nmi, 0.0, 1e-12);
  EXPECT_NEAR(s.ari, 0.0, 1e-12);
  EXPECT_NEAR(s.purity, 0.25, 1e-12);
}

TEST(ClusterMetrics, EmptyInputGivesZeros) {
  ClusterScores s = ScoreClustering({}, {});
  EXPECT_EQ(s.nmi, 0);
  EXPECT_EQ(s.clusters, 0);
}

}  // namespace
}  // namespace fieldloop::pipeline
