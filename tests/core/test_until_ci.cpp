// SPDX-License-Identifier: GPL-2.0-only
// --until-ci: the median's distribution-free interval and the headline
// assessment over a probe document's repetitions.
#include <gtest/gtest.h>

#include "cli/runner.h"
#include "core/until_ci.h"

using namespace kperflab;
using nlohmann::json;

namespace {

TEST(MedianCi, NeedsSixValues) {
  EXPECT_FALSE(median_ci95({1, 2, 3, 4, 5}));
  auto ci = median_ci95({6, 1, 5, 2, 4, 3});
  ASSERT_TRUE(ci);
  // n = 6: x(1)..x(6), coverage 1 - 2/64.
  EXPECT_EQ(ci->lo, 1);
  EXPECT_EQ(ci->hi, 6);
  EXPECT_DOUBLE_EQ(ci->median, 3.5);
  EXPECT_DOUBLE_EQ(ci->coverage, 1 - 2.0 / 64);
}

TEST(MedianCi, OrderStatisticsOfTheBinomialTable) {
  // n = 10: ranks 2 and 9 (2 * 11/1024 = 0.0215 <= 0.05; 2 * 56/1024 > 0.05).
  auto ci = median_ci95({10, 9, 8, 7, 6, 5, 4, 3, 2, 1});
  ASSERT_TRUE(ci);
  EXPECT_EQ(ci->lo, 2);
  EXPECT_EQ(ci->hi, 9);
  EXPECT_NEAR(ci->coverage, 1 - 2 * 11.0 / 1024, 1e-12);
  // n = 20: ranks 6 and 15 (P(B <= 5) = 0.0207).
  std::vector<double> v;
  for (int i = 1; i <= 20; ++i) v.push_back(i);
  ci = median_ci95(v);
  ASSERT_TRUE(ci);
  EXPECT_EQ(ci->lo, 6);
  EXPECT_EQ(ci->hi, 15);
  EXPECT_GE(ci->coverage, 0.95);
}

TEST(MedianCi, HalfWidthIsTheLargerSideInPercent) {
  EXPECT_NEAR(*median_ci_half_width_pct({90, 97, 100, 100, 103, 110}), 10.0, 1e-9);
  EXPECT_NEAR(*median_ci_half_width_pct({99, 100, 100, 100, 100, 104}), 4.0, 1e-9);
  EXPECT_FALSE(median_ci_half_width_pct({0, 0, 0, 0, 0, 0}));  // no positive median
}

json rep_with(std::map<std::string, std::pair<double, uint64_t>> hists, bool scalar = true) {
  json m = json::object();
  for (auto& [name, v] : hists)
    m[name] = {{"kind", "histogram"}, {"p50", v.first}, {"count", v.second}};
  if (scalar) m["a/ratio"] = {{"kind", "scalar"}, {"value", 1.0}};
  return {{"metrics", m}};
}

TEST(UntilCiAssessment, JudgesHistogramsSeenInEveryRepetitionWithEnoughSamples) {
  json reps = json::array();
  for (int i = 0; i < 6; ++i) {
    std::map<std::string, std::pair<double, uint64_t>> h = {
        {"steady/latency", {100.0 + i % 2, 1000}},         // +-0.5 %
        {"wobbly/latency", {100.0 + 10 * (i % 3), 1000}},  // +-10 of 110
        {"sparse/latency", {100.0 * (i + 1), 5}},          // too few samples: not judged
    };
    if (i != 3) h["sometimes/latency"] = {50.0 * (i + 1), 1000};  // missing once: not judged
    reps.push_back(rep_with(h));
  }
  auto a = assess_until_ci(reps, 2.0);
  EXPECT_EQ(a.headline, 2u);
  EXPECT_EQ(a.above, 1u);
  ASSERT_EQ(a.widest.size(), 2u);
  EXPECT_EQ(a.widest[0].first, "wobbly/latency");
  EXPECT_NEAR(a.widest[0].second, 10.0 / 110 * 100, 1e-9);
  EXPECT_EQ(assess_until_ci(reps, 10.0).above, 0u);
  // Five repetitions: no interval yet, nothing judged.
  reps.erase(reps.size() - 1);
  EXPECT_EQ(assess_until_ci(reps, 2.0).headline, 0u);
}

TEST(UntilCiArgs, RepeatIsTheMinimumAndTheBudgetNeedsATarget) {
  auto o = parse_run_args({"--until-ci", "2"});
  ASSERT_TRUE(o.until_ci);
  EXPECT_EQ(o.until_ci->pct, 2.0);
  EXPECT_EQ(o.repeat, UntilCi::kMinReps);
  EXPECT_EQ(o.until_ci->budget_s, 0.0);
  o = parse_run_args({"--until-ci", "1.5", "--repeat", "3", "--until-ci-budget", "90"});
  EXPECT_EQ(o.repeat, 6u);
  EXPECT_EQ(o.until_ci->budget_s, 90.0);
  EXPECT_EQ(parse_run_args({"--until-ci", "5", "--repeat", "12"}).repeat, 12u);
  EXPECT_FALSE(parse_run_args({}).until_ci);
  for (auto bad : std::vector<std::vector<std::string>>{{"--until-ci", "0"},
                                                       {"--until-ci", "nan"},
                                                       {"--until-ci", "150"},
                                                       {"--until-ci-budget", "60"},
                                                       {"--until-ci", "2", "--until-ci-budget", "0"}}) {
    try {
      parse_run_args(bad);
      ADD_FAILURE() << bad[0] << " " << bad[1] << " accepted";
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find("--until-ci"), std::string::npos) << e.what();
    }
  }
}

}  // namespace

// Issue #27 item 10: `--repeat 20 --until-ci-budget 2` ran 90 s; an explicit
// budget caps the repetitions --repeat asks for, the default one does not.
TEST(UntilCiStop, AnExplicitBudgetCapsRepeat) {
  UntilCi u;
  u.pct = 1;
  u.min_reps = 20;
  CiAssessment wide;
  wide.headline = 3;
  wide.above = 3;
  u.budget_s = 2;
  EXPECT_EQ(until_ci_stop(u, 2, 1, 0.5, wide), "");       // 0.5 + 0.5 <= 2
  EXPECT_EQ(until_ci_stop(u, 2, 3, 1.8, wide), "budget");  // 1.8 + 0.6 > 2, 3 < 20
  u.budget_s = 0;                                          // the default budget of 60 s
  EXPECT_EQ(until_ci_stop(u, 60, 3, 59, wide), "");        // --repeat 20 stands
  EXPECT_EQ(until_ci_stop(u, 60, 20, 100, wide), "budget");
  CiAssessment narrow;
  narrow.headline = 3;
  EXPECT_EQ(until_ci_stop(u, 60, 20, 1, narrow), "converged");
  EXPECT_EQ(until_ci_stop(u, 60, 5, 1, narrow), "");  // converged, but --repeat 20 asked
  CiAssessment none;
  EXPECT_EQ(until_ci_stop(u, 60, 20, 1, none), "no_headline_metric");
  u.max_reps = 20;
  EXPECT_EQ(until_ci_stop(u, 1e9, 20, 1, wide), "max_repetitions");
}
