// SPDX-License-Identifier: GPL-2.0-only
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <vector>

#include "core/histogram.h"
#include "kperflab/hist.h"

using kperflab::Histogram;

TEST(Histogram, QuantilesOnKnownData) {
  Histogram h;
  for (uint64_t v = 1; v <= 100; ++v) h.record(v);  // exact range
  EXPECT_EQ(h.count(), 100u);
  EXPECT_EQ(h.min(), 1u);
  EXPECT_EQ(h.max(), 100u);
  EXPECT_EQ(h.quantile(0.5), 50u);
  EXPECT_EQ(h.quantile(0.99), 99u);
  EXPECT_EQ(h.quantile(1.0), 100u);
  EXPECT_EQ(h.quantile(0.0), 1u);
  EXPECT_DOUBLE_EQ(h.mean(), 50.5);
  EXPECT_NEAR(h.stddev(), 28.866, 1e-3);
}

TEST(Histogram, RelativeErrorOfQuantiles) {
  std::mt19937_64 rng(7);
  std::lognormal_distribution<double> d(10, 2);
  std::vector<uint64_t> v;
  Histogram h;
  for (int i = 0; i < 100001; ++i) {
    uint64_t x = 1 + static_cast<uint64_t>(d(rng));
    v.push_back(x);
    h.record(x);
  }
  std::sort(v.begin(), v.end());
  for (double q : {0.01, 0.1, 0.5, 0.9, 0.99, 0.999}) {
    uint64_t exact = v[static_cast<size_t>(q * (v.size() - 1) + 0.5)];
    double err = std::abs(static_cast<double>(h.quantile(q)) - static_cast<double>(exact)) /
                 static_cast<double>(exact);
    EXPECT_LE(err, 1.0 / 128 + 1e-9) << "q=" << q << " exact=" << exact;
  }
}

TEST(Histogram, MergeIsAssociativeAndCommutative) {
  std::mt19937_64 rng(3);
  Histogram a, b, c;
  for (int i = 0; i < 5000; ++i) {
    a.record(rng() % 1000000);
    b.record(rng() % 100000000);
    c.record(rng() >> 20);  // some overflow past 2^40
  }
  Histogram ab_c = a, a_bc = a, b_a = b, bc = b;
  ab_c.merge(b);
  ab_c.merge(c);
  bc.merge(c);
  a_bc.merge(bc);
  b_a.merge(a);
  Histogram a_b = a;
  a_b.merge(b);
  EXPECT_TRUE(ab_c == a_bc);
  EXPECT_TRUE(a_b == b_a);
  EXPECT_EQ(ab_c.count(), 15000u);
  EXPECT_GT(ab_c.overflow(), 0u);
}

TEST(Histogram, OverflowIsExplicitNeverClamped) {
  Histogram h(uint64_t{1} << 20);
  h.record(5);
  h.record(uint64_t{1} << 30);
  h.record(uint64_t{1} << 25, 3);
  EXPECT_EQ(h.count(), 5u);
  EXPECT_EQ(h.overflow(), 4u);
  EXPECT_EQ(h.overflow_floor(), uint64_t{1} << 25);
  EXPECT_EQ(h.max(), 5u);  // the tracked range holds only 5
}

TEST(Histogram, MergeTruncatedKernelArray) {
  __u64 counts[KPL_HIST_LEN_1MS] = {};
  __u64 overflow = 0;
  for (uint64_t v : {100ull, 1000ull, 1000ull, 500000ull, 2000000ull})
    kpl_hist_record(counts, KPL_HIST_LEN_1MS, &overflow, v);
  Histogram h;
  h.merge_truncated(counts, overflow);
  EXPECT_EQ(h.count(), 5u);
  EXPECT_EQ(h.overflow(), 1u);
  EXPECT_EQ(h.overflow_floor(), uint64_t{1} << 20);
  EXPECT_EQ(h.quantile(0.5), 1003u);  // highest equivalent of 1000's bucket
  // A shorter array merges into the same indexes.
  Histogram direct;
  for (uint64_t v : {100ull, 1000ull, 1000ull, 500000ull}) direct.record(v);
  Histogram truncated;
  truncated.merge_truncated(std::span<const __u64>(counts, KPL_HIST_LEN_1MS), 0);
  EXPECT_TRUE(truncated == direct);
}

TEST(Histogram, EmptyIsZero) {
  Histogram h;
  EXPECT_TRUE(h.empty());
  EXPECT_EQ(h.quantile(0.99), 0u);
  EXPECT_EQ(h.min(), 0u);
  EXPECT_EQ(h.max(), 0u);
  EXPECT_EQ(h.mean(), 0.0);
}

namespace {

// Histogram::quantile as it was before quantiles() (one scan per quantile):
// the reference the one-pass walk must match.
uint64_t quantile_by_scan(const Histogram& h, double q) {
  uint64_t total = h.count() - h.overflow();
  if (!total) return 0;
  uint64_t rank = kperflab::quantile_rank(q, total), seen = 0;
  const auto& c = h.counts();
  for (uint32_t i = 0; i < c.size(); ++i) {
    seen += c[i];
    if (c[i] && seen >= rank) return kpl_hist_highest(i);
  }
  return h.max();
}

}  // namespace

TEST(Histogram, QuantilesInOnePassAreEachQuantile) {
  std::mt19937_64 rng(5);
  const std::vector<double> qs = {0.9999, 0.5, 0.0, 1.0, 0.9, 0.5, 0.99, 0.001, 0.999, -1, 2};
  for (int round = 0; round < 300; ++round) {
    Histogram h(round % 3 ? Histogram::kDefaultHighest : uint64_t{1} << 20);
    int n = round % 7 == 0 ? 0 : static_cast<int>(rng() % 3000) + 1;
    std::lognormal_distribution<double> d(static_cast<double>(rng() % 15) + 1, 0.1 + (rng() % 30) / 10.0);
    for (int i = 0; i < n; ++i) h.record(static_cast<uint64_t>(d(rng)), 1 + rng() % 3);
    std::vector<uint64_t> got(qs.size()), sparse(qs.size());
    h.quantiles(qs, got);
    std::vector<kperflab::IndexCount> nonzero;
    for (uint32_t i = 0; i < h.counts().size(); ++i)
      if (h.counts()[i]) nonzero.push_back({i, h.counts()[i]});
    kperflab::quantiles_of(nonzero, h.count() - h.overflow(), qs, sparse);
    for (size_t k = 0; k < qs.size(); ++k) {
      EXPECT_EQ(got[k], quantile_by_scan(h, qs[k])) << "round " << round << " q " << qs[k];
      EXPECT_EQ(sparse[k], got[k]) << "round " << round << " q " << qs[k];
      EXPECT_EQ(h.quantile(qs[k]), got[k]);
    }
  }
  // A total near 2^63: q = 1 rounds the rank past it in a double; max() then.
  Histogram big;
  big.record(7, (uint64_t{1} << 63) - 1);
  double one = 1.0;
  uint64_t out = 0;
  big.quantiles({&one, 1}, {&out, 1});
  EXPECT_EQ(out, big.max());
  EXPECT_THROW(big.quantiles({&one, 1}, {}), std::invalid_argument);
}
