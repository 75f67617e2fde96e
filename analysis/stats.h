// SPDX-License-Identifier: GPL-2.0-only
// Statistics of the comparison: two-sided Mann-Whitney U, a seeded
// bootstrap confidence interval of the relative change of medians, and
// Benjamini-Hochberg correction for the number of comparisons.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace kperflab::stats {

double median(std::vector<double> v);
// Mean (NaN when empty) and sample variance (n - 1; NaN below 2 values).
double mean(const std::vector<double>& v);
double variance(const std::vector<double>& v);

// Two-sided p-value of the Mann-Whitney U (Wilcoxon rank-sum) test. Exact
// permutation distribution of the rank sum with midranks (ties allowed:
// HDR quantisation ties most rows) when n1 + n2 <= kExactRankSumMax:
// 2 * min(P(W <= w), P(W >= w)) over all C(n1 + n2, n1) splits, as
// scipy.stats.permutation_test computes it. Beyond, the normal approximation
// with tie correction and continuity correction. 1.0 when either side is
// empty.
inline constexpr size_t kExactRankSumMax = 40;
double mann_whitney_p(const std::vector<double>& a, const std::vector<double>& b);

// The smallest two-sided p-value the U test can give for these sizes
// (no ties): 2 / C(n1 + n2, n1). Tells whether repetitions are too few.
double mann_whitney_min_p(size_t n1, size_t n2);

// Student's t distribution: P(T > t) for df > 0 degrees of freedom, and the
// q-quantile (0 < q < 1).
double student_t_sf(double t, double df);
double student_t_quantile(double q, double df);
double student_t_quantile_uncached(double q, double df);

// Snedecor's F distribution: P(F > f) for d1, d2 > 0 degrees of freedom
// (d2 past 1e5 is taken as 1e5: the chi-square limit).
double f_sf(double f, double d1, double d2);

// t test of mean(b) - mean(a). Welch's (unequal variances) when both sides
// have 2 or more values; when one side has a single value, the variance is
// the other side's (df = its n - 1). NaN p when neither side has 2 values.
// se == 0 (every value equal within each side): p = 1 when the means are
// equal, else 0.
struct TTest {
  double diff = 0, se = 0, df = 0, p = 1;
};
TTest t_test(const std::vector<double>& a, const std::vector<double>& b);

// Robust spread: 1.4826 * median absolute deviation (the SD for normal
// data). NaN with fewer than 2 values.
double mad_sd(const std::vector<double>& v);

struct Interval {
  double lo, hi;
};

// Percentile bootstrap CI of median(b) / median(a) - 1 (resampling each side
// with replacement), deterministic for a seed (splitmix64; medians by
// selection, not sorting).
Interval bootstrap_relative_change(const std::vector<double>& a, const std::vector<double>& b,
                                   double confidence, unsigned resamples, uint64_t seed);

// Benjamini-Hochberg adjusted p-values (same order as the input).
std::vector<double> benjamini_hochberg(const std::vector<double>& p);

}  // namespace kperflab::stats

namespace kperflab::stats {

// The digamma and trigamma functions (psi, psi') for x > 0, and the
// inverse of trigamma for y > 0 (Newton's method as in Smyth 2004).
double digamma(double x);
double trigamma(double x);
double trigamma_inverse(double y);

// Empirical-Bayes prior of row variances (Smyth 2004, limma's fitFDist
// without covariates): given sample variances s2[i] > 0 with df[i] > 0
// degrees of freedom, the scaled inverse chi-square prior (s0^2, d0) they
// are drawn from. Unlike limma, the spread of the true variances is taken
// one standard error above its estimate (conservative: d0 stays finite and
// modest when few rows are behind it). Fewer than 3 rows: d0 = 0 (no
// prior: each row keeps its own variance).
struct VariancePrior {
  double s2 = NAN, df = 0;
};
VariancePrior fit_variance_prior(const std::vector<double>& s2, const std::vector<double>& df);

// The posterior variance of a row: (d0 s0^2 + d s^2) / (d0 + d), with
// d0 + d degrees of freedom; with an infinite d0 it is s0^2.
double moderated_variance(const VariancePrior& prior, double s2, double df);

// Variance of the rounding of a value recorded in a 2-significant-digit HDR
// histogram (include/kperflab/hist.h: exact integers below 256, buckets of
// width 2^k above): w^2 / 12 for the bucket width w at the value.
double hdr_quantisation_var(double value);

}  // namespace kperflab::stats
