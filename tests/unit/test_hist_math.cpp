// SPDX-License-Identifier: GPL-2.0-only
// include/kperflab/hist.h: the bucket math every histogram of the project uses.
#include <gtest/gtest.h>

#include <bit>
#include <cstdint>
#include <random>

#include "kperflab/hist.h"

TEST(HistMath, Fls64MatchesBitWidth) {
  EXPECT_EQ(kpl_hist_fls64(0), 0u);
  for (int b = 0; b < 64; ++b) {
    uint64_t v = uint64_t{1} << b;
    EXPECT_EQ(kpl_hist_fls64(v), static_cast<uint32_t>(std::bit_width(v)));
    EXPECT_EQ(kpl_hist_fls64(v | (v - 1)), static_cast<uint32_t>(b + 1));
  }
  std::mt19937_64 rng(1);
  for (int i = 0; i < 100000; ++i) {
    uint64_t v = rng() >> (rng() % 64);
    ASSERT_EQ(kpl_hist_fls64(v), static_cast<uint32_t>(std::bit_width(v))) << v;
  }
}

// Every index up to the array length for 2^40 ns: index(lowest(i)) == i,
// index(highest(i)) == i, and the ranges tile the value line without gaps.
TEST(HistMath, IndexAndBoundsAreInverse) {
  const uint32_t len = kpl_hist_len(uint64_t{1} << 40);
  ASSERT_EQ(len, 4480u);  // HdrHistogram: (34 buckets + 1) * 128
  for (uint32_t i = 0; i < len; ++i) {
    ASSERT_EQ(kpl_hist_index(kpl_hist_lowest(i)), i);
    ASSERT_EQ(kpl_hist_index(kpl_hist_highest(i)), i);
    if (i + 1 < len) {
      ASSERT_EQ(kpl_hist_lowest(i + 1), kpl_hist_highest(i) + 1) << i;
    }
  }
  EXPECT_GE(kpl_hist_highest(len - 1), uint64_t{1} << 40);
}

TEST(HistMath, ExactBelow256AndHdrLayoutAbove) {
  for (uint64_t v = 0; v < 256; ++v) EXPECT_EQ(kpl_hist_index(v), v);
  // HdrHistogram_c, unit magnitude 0, 256 sub-buckets: 256 -> 256, 511 -> 383,
  // 512 -> 384, 1000 -> 378 + 128 = 506 (bucket 2, sub 250).
  EXPECT_EQ(kpl_hist_index(256), 256u);
  EXPECT_EQ(kpl_hist_index(511), 383u);
  EXPECT_EQ(kpl_hist_index(512), 384u);
  EXPECT_EQ(kpl_hist_index(1000), 2u * 128 + 250);
  EXPECT_EQ(kpl_hist_lowest(kpl_hist_index(1000)), 1000u);
  EXPECT_EQ(kpl_hist_highest(kpl_hist_index(1000)), 1003u);
  EXPECT_EQ(kpl_hist_index(UINT64_MAX), 56u * 128 + 255);
}

TEST(HistMath, LengthMacrosMatchFunction) {
  EXPECT_EQ(KPL_HIST_LEN_1MS, kpl_hist_len((uint64_t{1} << 20) - 1));
  EXPECT_EQ(KPL_HIST_LEN_1S, kpl_hist_len((uint64_t{1} << 30) - 1));
  EXPECT_EQ(KPL_HIST_LEN_4S, kpl_hist_len((uint64_t{1} << 32) - 1));
  EXPECT_EQ(KPL_HIST_LEN_FULL, kpl_hist_len((uint64_t{1} << 40) - 1));
  for (int b = 9; b < 63; ++b) {
    uint64_t h = (uint64_t{1} << b) - 1;
    EXPECT_LT(kpl_hist_index(h), kpl_hist_len(h)) << b;
  }
}

// Relative error of the equivalent range is at most 1/128 (2 significant
// digits: HdrHistogram guarantees 1 part in 100, the layout gives 1/128).
TEST(HistMath, RelativeErrorBound) {
  std::mt19937_64 rng(42);
  for (int i = 0; i < 200000; ++i) {
    uint64_t v = 1 + (rng() >> (rng() % 62 + 2));
    uint32_t idx = kpl_hist_index(v);
    uint64_t lo = kpl_hist_lowest(idx), hi = kpl_hist_highest(idx);
    ASSERT_LE(lo, v);
    ASSERT_GE(hi, v);
    ASSERT_LE(static_cast<double>(hi - lo) / static_cast<double>(v), 1.0 / 128) << v;
  }
}

TEST(HistMath, RecordNeverClamps) {
  // KPL_HIST_LEN_1MS holds every value < 2^20 and nothing larger.
  __u64 counts[KPL_HIST_LEN_1MS] = {};
  __u64 overflow = 0;
  kpl_hist_record(counts, KPL_HIST_LEN_1MS, &overflow, 1000);
  kpl_hist_record(counts, KPL_HIST_LEN_1MS, &overflow, (uint64_t{1} << 20) - 1);
  kpl_hist_record(counts, KPL_HIST_LEN_1MS, &overflow, uint64_t{1} << 20);
  kpl_hist_record(counts, KPL_HIST_LEN_1MS, &overflow, uint64_t{1} << 50);
  EXPECT_EQ(overflow, 2u);
  EXPECT_EQ(counts[kpl_hist_index(1000)], 1u);
  EXPECT_EQ(counts[KPL_HIST_LEN_1MS - 1], 1u);  // 2^20 - 1 is the last tracked value
  uint64_t total = 0;
  for (__u64 c : counts) total += c;
  EXPECT_EQ(total, 2u);
}
