// SPDX-License-Identifier: GPL-2.0-only
// The noise check's statistics and decision on fixed samples (never on this
// host's timing: a 2-vCPU CI VM is as noisy as it likes), and one short real
// run that checks only its shape.
#include <gtest/gtest.h>

#include "host/noise_check.h"
#include "cli/runner.h"

namespace kperflab {
namespace {

TEST(NoiseCheck, MedianAndMad) {
  // One preempted round (150) moves neither statistic.
  NoiseCpu c = summarize(3, {100, 101, 99, 100, 150});
  EXPECT_EQ(c.cpu, 3);
  EXPECT_DOUBLE_EQ(c.median_ns, 100);
  EXPECT_DOUBLE_EQ(c.mad_ns, 1);
  EXPECT_DOUBLE_EQ(c.spread_pct, 1.0);
  NoiseCpu even = summarize(0, {10, 20, 30, 40});
  EXPECT_DOUBLE_EQ(even.median_ns, 25);
  EXPECT_DOUBLE_EQ(even.mad_ns, 10);  // deviations 15 5 5 15
  EXPECT_DOUBLE_EQ(summarize(0, {}).spread_pct, 0);
}

TEST(NoiseCheck, ThresholdAndMessage) {
  NoiseCheck nc;
  nc.rounds = 5;
  nc.cpus.push_back(summarize(0, {100, 101, 99, 100, 100}));  // 0 %
  nc.cpus.push_back(summarize(1, {100, 110, 90, 100, 120}));  // MAD 10: 10 %
  EXPECT_TRUE(nc.noisy());
  EXPECT_EQ(nc.noisy_cpus(), "cpu 1 (10.0 %)");
  auto j = nc.to_json();
  EXPECT_EQ(j["noisy"], true);
  EXPECT_EQ(j["threshold_pct"], kNoiseThresholdPct);
  EXPECT_EQ(j["cpus"][1]["samples_ns"].size(), 5u);
  nc.cpus.pop_back();
  EXPECT_FALSE(nc.noisy());
  EXPECT_EQ(nc.noisy_cpus(), "");
  // Exactly at the threshold is not above it.
  nc.cpus.push_back(summarize(2, {100, 105, 95, 100, 100}));
  EXPECT_DOUBLE_EQ(nc.cpus.back().spread_pct, 0.0);
  nc.cpus.back().spread_pct = kNoiseThresholdPct;
  EXPECT_FALSE(nc.noisy());
}

TEST(NoiseCheck, PicksSpreadCpus) {
  std::vector<int> many;
  for (int i = 0; i < 64; ++i) many.push_back(i);
  EXPECT_EQ(pick_noise_cpus(many), (std::vector<int>{0, 21, 42, 63}));
  EXPECT_EQ(pick_noise_cpus({0, 1}), (std::vector<int>{0, 1}));
  EXPECT_EQ(pick_noise_cpus({4, 5, 8, 9, 12}, 2), (std::vector<int>{4, 12}));
}

TEST(NoiseCheck, RunsPinnedOnThisHost) {
  NoiseCheck nc = run_noise_check({0}, 3, std::chrono::milliseconds(1));
  ASSERT_EQ(nc.cpus.size(), 1u);
  EXPECT_EQ(nc.cpus[0].error, "");
  EXPECT_EQ(nc.cpus[0].samples_ns.size(), 3u);
  for (auto s : nc.cpus[0].samples_ns) EXPECT_GT(s, 0);
  EXPECT_GE(nc.iterations, 1000u);
  // A CPU that does not exist is reported, not fatal.
  NoiseCheck bad = run_noise_check({0, 4095}, 2, std::chrono::milliseconds(1));
  ASSERT_EQ(bad.cpus.size(), 2u);
  EXPECT_NE(bad.cpus[1].error, "");
  EXPECT_TRUE(bad.cpus[1].samples_ns.empty());
}

// Which runs do the check, and the --tune flags (CLI11, cli/runner.cpp).
TEST(NoiseCheck, RunFlags) {
  auto want = [](std::vector<std::string> a) { return wants_noise_check(parse_run_args(a)); };
  EXPECT_TRUE(want({"--profile", "standard"}));
  EXPECT_TRUE(want({"--profile", "full"}));
  EXPECT_FALSE(want({"--profile", "quick"}));
  EXPECT_FALSE(want({"--profile", "lab"}));
  EXPECT_FALSE(want({"--profile", "standard", "--no-noise-check"}));
  EXPECT_TRUE(want({"--profile", "quick", "--noise-check"}));
  EXPECT_TRUE(want({"--profile", "quick", "--strict"}));
  EXPECT_FALSE(want({"--strict", "--no-noise-check"}));
  RunOptions o = parse_run_args({"--tune-boost-off", "--noise-threshold", "2.5"});
  EXPECT_TRUE(o.tune && o.tune_boost_off);
  EXPECT_DOUBLE_EQ(o.noise_threshold_pct, 2.5);
  EXPECT_FALSE(parse_run_args({}).tune);
  EXPECT_THROW(parse_run_args({"--noise-threshold", "nan"}), std::invalid_argument);
  EXPECT_THROW(parse_run_args({"--noise-threshold", "101"}), std::invalid_argument);
}

}  // namespace
}  // namespace kperflab
