// SPDX-License-Identifier: GPL-2.0-only
#include <gtest/gtest.h>

#include "runner.h"

using kperflab::parse_run_args;

TEST(RunArgs, Parses) {
  auto o = parse_run_args({"--probe", "membarrier", "-p", "ipi", "--profile", "lab", "--repeat",
                           "5", "--out", "/tmp/x", "--set", "membarrier.iterations=100"});
  EXPECT_EQ(o.probes, (std::vector<std::string>{"membarrier", "ipi"}));
  EXPECT_EQ(o.profile, kperflab::Profile::lab);
  EXPECT_EQ(o.repeat, 5u);
  ASSERT_TRUE(o.out);
  EXPECT_EQ(o.out->string(), "/tmp/x");
  ASSERT_EQ(o.sets.size(), 1u);
  EXPECT_EQ(o.sets[0].first, "membarrier.iterations");
}

// Without --repeat, the profile's repetitions: enough for compare to flag a
// change confined to one metric (10 v 10: smallest exact p 1.1e-5).
TEST(RunArgs, RepetitionsDefaultToTheProfiles) {
  EXPECT_EQ(parse_run_args({}).repeat, 10u);
  EXPECT_EQ(parse_run_args({"--profile", "standard"}).repeat, 10u);
  EXPECT_EQ(parse_run_args({"--profile", "full"}).repeat, 20u);
  EXPECT_EQ(parse_run_args({"--profile", "lab"}).repeat, 1u);
  EXPECT_EQ(parse_run_args({"--profile", "full", "--repeat", "3"}).repeat, 3u);
}

TEST(RunArgs, BadInputNamesTheProblem) {
  auto msg = [](std::vector<std::string> a) {
    try {
      parse_run_args(a);
    } catch (const std::invalid_argument& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  EXPECT_NE(msg({"--repeat", "0"}).find("--repeat"), std::string::npos);
  EXPECT_NE(msg({"--repeat", "3x"}).find("3x"), std::string::npos);
  EXPECT_NE(msg({"--profile", "fast"}).find("fast"), std::string::npos);
  EXPECT_NE(msg({"--probe"}).find("--probe"), std::string::npos);  // CLI11: "1 required ... missing"
  EXPECT_NE(msg({"--bogus"}).find("--bogus"), std::string::npos);
  EXPECT_NE(msg({"--set", "novalue"}).find("PROBE.KEY=VALUE"), std::string::npos);
}
