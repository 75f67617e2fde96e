// SPDX-License-Identifier: GPL-2.0-only
// Adaptive repetitions (`kperflab run --until-ci PCT`): a probe repeats until
// the median of each of its headline metrics is known to +-PCT % (95 %,
// distribution-free), or its time budget runs out. The bundle says which.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace kperflab {

struct UntilCi {
  double pct = 0;          // target half-width of every headline CI, % of its median
  double budget_s = 0;     // per probe; 0: the default (default_until_ci_budget)
  unsigned min_reps = kMinReps;
  unsigned max_reps = 1000;
  // The fewest values with a 95 % order-statistic interval for a median:
  // 2 * 0.5^6 = 0.031 <= 0.05.
  static constexpr unsigned kMinReps = 6;
};

// Per probe: ten of its estimated repetitions, at least a minute.
double default_until_ci_budget(double estimate_one_repetition_s);

// The distribution-free 95 % confidence interval of the median of `v`
// (order statistics x(k) and x(n-k+1), the largest k with
// 2 * P(Binomial(n, 1/2) <= k - 1) <= 0.05); nullopt below 6 values.
struct MedianCi {
  double lo = 0, median = 0, hi = 0;
  double coverage = 0;  // exact, >= 0.95
};
std::optional<MedianCi> median_ci95(std::vector<double> v);

// Half-width of that interval in % of the median: the larger side,
// max(median - lo, hi - median) / median * 100. nullopt when there is no
// interval or the median is not positive.
std::optional<double> median_ci_half_width_pct(const std::vector<double>& v);

// Headline metrics of a probe: every histogram present in each repetition
// with at least kHeadlineMinCount samples in each, judged by its p50. Ten,
// not more: a cpumask sample is a 5 ms batch mean and a point has 15.
inline constexpr uint64_t kHeadlineMinCount = 10;

struct CiAssessment {
  size_t headline = 0;  // metrics judged
  size_t above = 0;     // of those, CI half-width still above the target
  std::vector<std::pair<std::string, double>> widest;  // up to 5, widest first
};
// Over a probe document's "repetitions" array (the bundle format).
CiAssessment assess_until_ci(const nlohmann::json& repetitions, double pct);

// Why the repetition loop stops after n repetitions that took elapsed_s, or
// "" to go on: converged, no_headline_metric, max_repetitions or budget
// (the next repetition, at the mean pace so far, would overrun budget_s).
// Below u.min_reps (--repeat) only a budget given with --until-ci-budget
// stops it: an explicit budget is a cap, --repeat never overrides it.
std::string until_ci_stop(const UntilCi& u, double budget_s, size_t n, double elapsed_s,
                          const CiAssessment& a);

// The record stored as <probe>.json "until_ci".
nlohmann::json until_ci_record(const UntilCi& u, double budget_s, const CiAssessment& a,
                               size_t repetitions, double elapsed_s, const std::string& stopped);

}  // namespace kperflab
