// SPDX-License-Identifier: GPL-2.0-only
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "analysis/stats.h"

namespace st = kperflab::stats;

TEST(Stats, MannWhitneyExactSmallSamples) {
  // Complete separation of 3 vs 3: U = 0, P(U <= 0) = 1/20, two-sided 0.1.
  EXPECT_NEAR(st::mann_whitney_p({1, 2, 3}, {4, 5, 6}), 0.1, 1e-12);
  EXPECT_NEAR(st::mann_whitney_min_p(3, 3), 0.1, 1e-12);
  // 5 vs 5 separated: 2 / C(10, 5) = 2 / 252.
  EXPECT_NEAR(st::mann_whitney_p({1, 2, 3, 4, 5}, {6, 7, 8, 9, 10}), 2.0 / 252, 1e-12);
  // Interleaved: no evidence.
  EXPECT_NEAR(st::mann_whitney_p({1, 3, 5, 7}, {2, 4, 6, 8}), 0.6857142857, 1e-6);
  EXPECT_EQ(st::mann_whitney_p({}, {1, 2}), 1.0);
}

// Exact permutation p with ties (midranks), against
// scipy.stats.permutation_test(rank-sum, permutation_type='independent',
// alternative='two-sided', n_resamples=inf), scipy 1.10.1.
TEST(Stats, MannWhitneyExactWithTiesMatchesScipy) {
  // 3 v 3, each side all tied: exact 2/20; the normal approximation said 0.047.
  EXPECT_NEAR(st::mann_whitney_p({1, 1, 1}, {2, 2, 2}), 0.1, 1e-12);
  EXPECT_NEAR(st::mann_whitney_p({10, 10, 12, 12, 14}, {12, 14, 14, 16, 16}),
              0.07936507936507936, 1e-12);
  EXPECT_NEAR(st::mann_whitney_p({5, 5, 5, 6, 6, 7, 7, 7}, {6, 7, 7, 8, 8, 8, 9, 9}),
              0.008547008547008548, 1e-12);
  EXPECT_NEAR(st::mann_whitney_p({3, 3, 3, 3, 3, 3, 4, 4, 4, 4}, {3, 4, 4, 4, 4, 5, 5, 5, 5, 5}),
              0.007426010521985754, 1e-12);
  // Unequal sizes, either order.
  EXPECT_NEAR(st::mann_whitney_p({12, 14, 14, 16, 16}, {10, 10, 12, 12, 14}),
              0.07936507936507936, 1e-12);
}

// Student t and the t tests, against scipy.stats.t and ttest_ind.
TEST(Stats, StudentTMatchesScipy) {
  EXPECT_NEAR(st::student_t_sf(2.5, 3.0), 0.04385332350403277, 1e-12);
  EXPECT_NEAR(st::student_t_sf(-1.2, 7.5), 0.866665538603389, 1e-12);
  EXPECT_NEAR(st::student_t_quantile(0.975, 4.2), 2.7250727225923765, 1e-9);
  EXPECT_NEAR(st::student_t_quantile(0.001, 2.0), -22.32712476997543, 1e-7);
  // ttest_ind(a, b, equal_var=False)
  auto w = st::t_test({1.0, 1.2, 0.9}, {1.5, 1.4, 1.7});
  EXPECT_NEAR(w.p, 0.016010965704545625, 1e-10);
  EXPECT_NEAR(w.diff / w.se, 4.008918628686364, 1e-10);
  EXPECT_NEAR(st::t_test({2.1, 2.4, 1.9, 2.2, 2.0}, {2.3, 2.9, 2.5}).p, 0.10790506382359241,
              1e-10);
  // One value on a side: the other side's variance, df = n - 1
  // (ttest_ind_from_stats(..., equal_var=True) with that variance on both).
  auto one = st::t_test({1.0, 1.1, 0.95, 1.05}, {1.3});
  EXPECT_NEAR(one.p, 0.031776980572396245, 1e-10);
  EXPECT_EQ(one.df, 3);
  EXPECT_TRUE(std::isnan(st::t_test({1.0}, {2.0}).p));
  EXPECT_EQ(st::t_test({1, 1}, {1, 1}).p, 1.0);
  EXPECT_EQ(st::t_test({1, 1}, {2, 2}).p, 0.0);
}

TEST(Stats, MadSd) {
  EXPECT_TRUE(std::isnan(st::mad_sd({1})));
  EXPECT_NEAR(st::mad_sd({1, 2, 3, 4, 100}), 1.4826, 1e-12);  // outlier-proof
  EXPECT_NEAR(st::median({4, 1, 3, 2}), 2.5, 1e-12);
}

TEST(Stats, MannWhitneyNormalApproximationWithTies) {
  std::vector<double> a, b;
  for (int i = 0; i < 30; ++i) a.push_back(i % 5), b.push_back(i % 5 + 2);
  double p = st::mann_whitney_p(a, b);
  EXPECT_LT(p, 1e-4);
  EXPECT_EQ(st::mann_whitney_p({1, 1, 1}, {1, 1, 1}), 1.0);  // all tied
}

// Under the null, p-values are (roughly) uniform: about alpha of them fall
// below alpha.
TEST(Stats, MannWhitneyCalibratedUnderNull) {
  std::mt19937_64 rng(5);
  std::normal_distribution<double> d(0, 1);
  int below = 0;
  const int trials = 2000;
  for (int t = 0; t < trials; ++t) {
    std::vector<double> a(10), b(10);
    for (auto& x : a) x = d(rng);
    for (auto& x : b) x = d(rng);
    below += st::mann_whitney_p(a, b) < 0.05;
  }
  EXPECT_GT(below, trials * 0.03);
  EXPECT_LT(below, trials * 0.07);
}

TEST(Stats, BootstrapCoversTheShift) {
  std::vector<double> a, b;
  std::mt19937_64 rng(9);
  std::normal_distribution<double> d(100, 1);
  for (int i = 0; i < 20; ++i) a.push_back(d(rng)), b.push_back(d(rng) * 1.1);
  auto ci = st::bootstrap_relative_change(a, b, 0.95, 2000, 1);
  EXPECT_LT(ci.lo, 0.1);
  EXPECT_GT(ci.hi, 0.1);
  EXPECT_GT(ci.lo, 0.05);
  auto again = st::bootstrap_relative_change(a, b, 0.95, 2000, 1);
  EXPECT_EQ(ci.lo, again.lo);  // deterministic per seed
}

TEST(Stats, BenjaminiHochberg) {
  auto adj = st::benjamini_hochberg({0.01, 0.04, 0.03, 0.005});
  std::vector<double> want = {0.02, 0.04, 0.04, 0.02};
  for (size_t i = 0; i < want.size(); ++i) EXPECT_NEAR(adj[i], want[i], 1e-12);
}
