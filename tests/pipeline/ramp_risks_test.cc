#include "pipeline/ramp_risks.h"

#include <fstream>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "pipeline/record_files.h"
#include "tests/testing/subprocess.h"

namespace fieldloop::pipeline {
namespace {

using ::testing::ElementsAre;

fieldloop::v1::OnboardingMetric Metric(const std::string& cohort, double ramp, double target,
                                       double pass, double quality) {
  fieldloop::v1::OnboardingMetric m;
  m.set_cohort(cohort);
  m.set_region("EMEA");
  m.set_segment("Enterprise");
  m.set_reps(5);
  m.set_ramp_days(ramp);
  m.set_ramp_target_days(target);
  m.set_cert_pass_rate(pass);
  m.set_call_quality(quality);
  return m;
}

TEST(RampRisks, EachLaggingFigureIsAReasonAndWorstComesFirst) {
  std::vector<RampRisk> risks = FindRampRisks({
      Metric("on-track", 88, 90, 0.9, 80),
      Metric("slow", 100, 90, 0.9, 80),         // +11%: over the 10% allowance.
      Metric("lagging", 142, 90, 0.58, 61),     // All three.
      Metric("just-within", 99, 90, 0.75, 70),  // +10%, 0.75, 70: at the thresholds.
  });
  ASSERT_EQ(risks.size(), 2u);
  EXPECT_EQ(risks[0].cohort, "lagging");
  EXPECT_THAT(risks[0].reasons, ElementsAre("ramp 142 days vs target 90 (+58%)",
                                            "certification pass rate 58% (threshold 75%)",
                                            "call quality 61/100 (threshold 70)"));
  EXPECT_EQ(risks[1].cohort, "slow");
  EXPECT_THAT(risks[1].reasons, ElementsAre("ramp 100 days vs target 90 (+11%)"));
}

TEST(RampRisks, ThresholdsAreParameters) {
  RampThresholds strict;
  strict.min_call_quality = 85;
  EXPECT_EQ(FindRampRisks({Metric("a", 80, 90, 0.9, 80)}, strict).size(), 1u);
  EXPECT_TRUE(FindRampRisks({Metric("a", 80, 90, 0.9, 80)}).empty());
}

TEST(RampRisks, TheExampleHasExactlyOneLaggingCohort) {
  std::ifstream in(testing::Runfile("examples/q3-push/onboarding_metrics.csv"));
  std::string csv((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<fieldloop::v1::OnboardingMetric> metrics;
  ASSERT_TRUE(ParseRecordFile(csv, "q3-push", [&](ParsedRecord& r) {
                EXPECT_TRUE(r.ok) << r.error;
                metrics.push_back(r.request.onboarding_metric());
                return true;
              }).ok());
  std::vector<RampRisk> risks = FindRampRisks(metrics);
  ASSERT_EQ(risks.size(), 1u);
  EXPECT_EQ(risks[0].cohort, "2026-06");
  EXPECT_EQ(risks[0].region, "EMEA");
  EXPECT_EQ(risks[0].segment, "Enterprise");
  EXPECT_EQ(risks[0].reasons.size(), 3u);
}

}  // namespace
}  // namespace fieldloop::pipeline
