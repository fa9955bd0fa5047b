#include "pipeline/ramp_risks.h"

#include <algorithm>
#include <cmath>
#include <tuple>

#include "absl/strings/str_format.h"

namespace fieldloop::pipeline {

std::vector<RampRisk> FindRampRisks(const std::vector<fieldloop::v1::OnboardingMetric>& metrics,
                                    const RampThresholds& t) {
  std::vector<RampRisk> risks;
  for (const auto& m : metrics) {
    RampRisk r{m.cohort(), m.region(), m.segment(), m.period(), m.rep_id(), m.reps(), {}, 0};
    if (m.ramp_target_days() > 0) {
      const double over = m.ramp_days() / m.ramp_target_days() - 1;
      // A figure exactly at its threshold is not a risk; 1e-9 absorbs rounding (99 / 90 - 1
      // is 0.1000000000000001 in doubles).
      if (over > t.ramp_over_target + 1e-9) {
        r.reasons.push_back(absl::StrFormat("ramp %.0f days vs target %.0f (+%.0f%%)",
                                            m.ramp_days(), m.ramp_target_days(), over * 100));
        r.severity += over;
      }
    }
    if (m.cert_pass_rate() < t.min_cert_pass_rate - 1e-9) {
      r.reasons.push_back(absl::StrFormat("certification pass rate %.0f%% (threshold %.0f%%)",
                                          m.cert_pass_rate() * 100, t.min_cert_pass_rate * 100));
      r.severity += (t.min_cert_pass_rate - m.cert_pass_rate()) / t.min_cert_pass_rate;
    }
    if (m.call_quality() < t.min_call_quality - 1e-9) {
      r.reasons.push_back(absl::StrFormat("call quality %.0f/100 (threshold %.0f)",
                                          m.call_quality(), t.min_call_quality));
      r.severity += (t.min_call_quality - m.call_quality()) / t.min_call_quality;
    }
    if (!r.reasons.empty()) risks.push_back(std::move(r));
  }
  std::sort(risks.begin(), risks.end(), [](const RampRisk& a, const RampRisk& b) {
    if (a.severity != b.severity) return a.severity > b.severity;
    return std::tie(a.cohort, a.region, a.segment, a.period, a.rep_id) <
           std::tie(b.cohort, b.region, b.segment, b.period, b.rep_id);
  });
  return risks;
}

}  // namespace fieldloop::pipeline
