// SPDX-License-Identifier: GPL-2.0-only
#include <gtest/gtest.h>

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
