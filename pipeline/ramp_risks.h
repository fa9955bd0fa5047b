// Ramp risks: onboarding cohorts whose figures lag, against documented thresholds.
// Pure and deterministic (sorted output). Rules in docs/analysis.md.
#ifndef FIELDLOOP_PIPELINE_RAMP_RISKS_H_
#define FIELDLOOP_PIPELINE_RAMP_RISKS_H_

#include <string>
#include <vector>

#include "proto/fieldloop/v1/records.pb.h"

namespace fieldloop::pipeline {

struct RampThresholds {
  // Ramp is at risk when ramp_days exceeds ramp_target_days by more than this share.
  // Default: 0.10 (10% over target).
  double ramp_over_target = 0.10;
  // Certification pass rate below this is a risk. Default: 0.75.
  double min_cert_pass_rate = 0.75;
  // Average call-quality score (0..100) below this is a risk. Default: 70.
  double min_call_quality = 70;
};

// One lagging metric row, with every reason it lags.
struct RampRisk {
  std::string cohort, region, segment, period, rep_id;
  int reps = 0;
  std::vector<std::string> reasons;  // e.g. "ramp 142 days vs target 90 (+58%)".
  // How far behind, to order risks: sum of the relative shortfalls of each lagging figure.
  double severity = 0;
};

// The rows of `metrics` that lag, worst first (severity, then cohort, region, segment,
// period, rep id).
std::vector<RampRisk> FindRampRisks(const std::vector<fieldloop::v1::OnboardingMetric>& metrics,
                                    const RampThresholds& thresholds = {});

}  // namespace fieldloop::pipeline

#endif  // FIELDLOOP_PIPELINE_RAMP_RISKS_H_
