// SPDX-License-Identifier: GPL-2.0-only
// Statistics of the comparison: two-sided Mann-Whitney U, a seeded
// bootstrap confidence interval of the relative change of medians, and
// Benjamini-Hochberg correction for the number of comparisons.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace kperflab::stats {

double median(std::vector<double> v);

// Two-sided p-value of the Mann-Whitney U test. Exact (the distribution of
// U by counting) when there are no ties and n1 * n2 <= 400; otherwise the
// normal approximation with tie correction and continuity correction.
// 1.0 when either side is empty.
double mann_whitney_p(const std::vector<double>& a, const std::vector<double>& b);

// The smallest two-sided p-value the U test can give for these sizes
// (no ties): 2 / C(n1 + n2, n1). Tells whether repetitions are too few.
double mann_whitney_min_p(size_t n1, size_t n2);

struct Interval {
  double lo, hi;
};

// Percentile bootstrap CI of median(b) / median(a) - 1 (resampling each side
// with replacement), deterministic for a seed.
Interval bootstrap_relative_change(const std::vector<double>& a, const std::vector<double>& b,
                                   double confidence, unsigned resamples, uint64_t seed);

// Benjamini-Hochberg adjusted p-values (same order as the input).
std::vector<double> benjamini_hochberg(const std::vector<double>& p);

}  // namespace kperflab::stats
