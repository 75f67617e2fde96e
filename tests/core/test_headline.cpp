// SPDX-License-Identifier: GPL-2.0-only
// The headline selection (results/headline.h) that LAVA, KTAP and KCIDB share,
// and the KTAP writer (cli/ktap.h), on synthetic probe documents.
#include <gtest/gtest.h>

#include <memory>
#include <sstream>

#include "results/headline.h"
#include "cli/ktap.h"
#include "core/until_ci.h"

using namespace kperflab;
using nlohmann::json;

namespace {

json hist(uint64_t count, double p50, double p99, const char* unit = "ns") {
  return {{"kind", "histogram"}, {"unit", unit}, {"count", count}, {"p50", p50}, {"p99", p99}};
}
json scalar(const json& v, const char* unit) { return {{"kind", "scalar"}, {"unit", unit}, {"value", v}}; }

// Three repetitions; rep r scales the latency by (1 + r).
json doc() {
  json reps = json::array();
  for (int r = 0; r < 3; ++r) {
    json m = {
        {"private_expedited/targets=1/spin/latency", hist(100, 1000.0 * (1 + r), 5000.0 * (1 + r))},
        {"global/latency", hist(r == 1 ? 3 : 100, 50, 60)},  // thin in one repetition
        {"private_expedited/targets=1/spin/ipis_per_call", scalar(1.0 + r, "ratio")},
        {"delivery/negative_deltas", scalar(0, "count")},
        {"writer/ops", scalar(10.0 * (r + 1), "ops/s")},
        {"litmus/none/control/forbidden", scalar(5, "count")},
        {"litmus/private_expedited/before_threads/forbidden", scalar(r == 2 ? 1 : 0, "count")},
        {"litmus/private_expedited/before_threads/forbidden_per_million", scalar(0, "per_million")},
        {"unmeasured/ratio", scalar(nullptr, "ratio")},
    };
    reps.push_back({{"metrics", m}});
  }
  return {{"repetitions", reps}};
}

headline::Probe summarize(const json& d, const std::string& status = "complete") {
  JsonView v(d, std::make_shared<const std::filesystem::path>("membarrier.json"));
  return headline::summarize_probe("membarrier", status, "", &v);
}

const headline::Figure* find(const headline::Probe& p, const std::string& metric,
                             const std::string& stat) {
  for (auto& f : p.figures)
    if (f.metric == metric && f.stat == stat) return &f;
  return nullptr;
}

TEST(Headline, PicksWellFilledHistogramsAndRatesAsMedians) {
  auto d = doc();
  auto p = summarize(d);
  auto* p50 = find(p, "private_expedited/targets=1/spin/latency", "p50");
  auto* p99 = find(p, "private_expedited/targets=1/spin/latency", "p99");
  ASSERT_TRUE(p50 && p99);
  EXPECT_EQ(p50->value, 2000);  // median of 1000, 2000, 3000
  EXPECT_EQ(p99->value, 10000);
  EXPECT_EQ(p50->repetitions, 3u);
  EXPECT_EQ(p50->unit, "ns");
  EXPECT_EQ(p50->group(), "private_expedited");
  ASSERT_TRUE(find(p, "private_expedited/targets=1/spin/ipis_per_call", "value"));
  EXPECT_EQ(find(p, "writer/ops", "value")->value, 20);
  EXPECT_TRUE(find(p, "litmus/private_expedited/before_threads/forbidden_per_million", "value"));
  // Counts stay in the bundle; a thin histogram is counted, not reported;
  // a null value is not a figure.
  EXPECT_FALSE(find(p, "delivery/negative_deltas", "value"));
  EXPECT_FALSE(find(p, "global/latency", "p50"));
  EXPECT_EQ(p.thin, 1u);
  EXPECT_FALSE(find(p, "unmeasured/ratio", "value"));
  EXPECT_EQ(p.figures.size(), 5u);
}

TEST(Headline, ForbiddenLitmusOutcomeOfACommandIsAViolationNotOfTheControl) {
  auto d = doc();
  auto p = summarize(d);
  ASSERT_EQ(p.violations.size(), 1u);
  EXPECT_EQ(p.violations[0].rfind("litmus/private_expedited/before_threads/forbidden = 1", 0), 0u)
      << p.violations[0];
  EXPECT_FALSE(p.passed());
  // Without it, the probe passes; the control's forbidden outcomes are expected.
  for (auto& rep : d["repetitions"])
    rep["metrics"]["litmus/private_expedited/before_threads/forbidden"]["value"] = 0;
  EXPECT_TRUE(summarize(d).passed());
  EXPECT_FALSE(summarize(d, "partial").passed());
  EXPECT_FALSE(summarize(d, "failed").passed());
}

TEST(Headline, GroupSkipsSweepParameters) {
  headline::Figure f{"freq=1000/writer_rate=max/threads=1/clock/latency/stack", "p50", 1, "ns", 1};
  EXPECT_EQ(f.group(), "clock");
  f.metric = "a=1/b=2";
  EXPECT_EQ(f.group(), "a=1");
  EXPECT_EQ(headline::case_name("x/targets=1/spin latency#\n"), "x.targets-1.spin_latency__");
}

TEST(Ktap, SkipViolationAndNotRun) {
  std::ostringstream o;
  KtapWriter k(o, 3);
  auto d = doc();
  k.probe(summarize(d));
  k.probe({"ipi", "skipped", "kperflab.ko not loaded # really", {}, {}, 0});
  k.not_run("cpumask", "not run: interrupted");
  std::string s = o.str();
  EXPECT_EQ(s.rfind("KTAP version 1\n1..3\n", 0), 0u) << s;
  EXPECT_NE(s.find("    KTAP version 1\n    # Subtest: membarrier\n    1..3\n"), std::string::npos) << s;
  EXPECT_NE(s.find("    # private_expedited/targets=1/spin/latency p50 2000 ns\n"), std::string::npos);
  EXPECT_NE(s.find("    not ok 1 litmus\n"), std::string::npos) << s;
  EXPECT_NE(s.find("    ok 2 private_expedited\n"), std::string::npos) << s;
  EXPECT_NE(s.find("\nnot ok 1 membarrier\n"), std::string::npos) << s;
  // '#' may not appear in a directive's reason: it would start another.
  EXPECT_NE(s.find("\nok 2 ipi # SKIP kperflab.ko not loaded _ really\n"), std::string::npos) << s;
  EXPECT_NE(s.find("\n# cpumask: not run: interrupted\nnot ok 3 cpumask\n"), std::string::npos) << s;
  EXPECT_EQ(k.reported(), 3u);
}

}  // namespace

namespace {

// The top-level diagnostic for doc()'s one thin histogram.
std::string thin_line() {
  return "# membarrier: 1 histograms with fewer than " + std::to_string(kHeadlineMinCount) +
         " samples in some repetition left out\n";
}

// Every group of doc() without its forbidden outcome: all "ok".
json clean_doc() {
  auto d = doc();
  for (auto& rep : d["repetitions"])
    rep["metrics"]["litmus/private_expedited/before_threads/forbidden"]["value"] = 0;
  return d;
}

}  // namespace

// A probe that ended partial (^C) or failed is "not ok" with a failing
// subtest of its own, "run" (#25, item 10): the kernel's KTAP parser counts
// leaf tests only, and read "passed: 7", exit 0, when every group was "ok".
TEST(Ktap, PartialOrFailedProbeHasAFailingRunSubtest) {
  std::ostringstream o;
  KtapWriter k(o, 2);
  auto d = clean_doc();
  JsonView v(d, std::make_shared<const std::filesystem::path>("membarrier.json"));
  k.probe(headline::summarize_probe("membarrier", "partial", "the run was interrupted", &v));
  k.probe(headline::summarize_probe("cpumask", "failed", "no BTF", nullptr));
  std::string s = o.str();
  EXPECT_NE(s.find("    # Subtest: membarrier\n    1..4\n"), std::string::npos) << s;
  EXPECT_NE(s.find("    ok 1 litmus\n"), std::string::npos) << s;
  EXPECT_NE(s.find("    ok 3 writer\n"
                   "    # membarrier: the probe ended partial: the run was interrupted\n"
                   "    not ok 4 run\n"
                   + thin_line() +
                   "not ok 1 membarrier\n"),
            std::string::npos)
      << s;
  EXPECT_NE(s.find("    # Subtest: cpumask\n    1..1\n"
                   "    # cpumask: the probe ended failed: no BTF\n"
                   "    not ok 1 run\n"
                   "not ok 2 cpumask\n"),
            std::string::npos)
      << s;
  // The reason is said once, inside the subtest, not again at the top.
  EXPECT_EQ(s.find("\n# membarrier: the probe ended"), std::string::npos) << s;
}

// A violation in a group none of whose figures made the headline (all thin)
// fails a subtest of that name, not only a diagnostic line.
TEST(Ktap, ViolationOfAGroupWithoutFiguresFailsItsSubtest) {
  std::ostringstream o;
  KtapWriter k(o, 1);
  auto d = clean_doc();
  auto p = summarize(d);
  p.violations.push_back("delivery/forbidden = 2 over 3 repetitions");
  k.probe(p);
  std::string s = o.str();
  EXPECT_NE(s.find("    1..4\n"), std::string::npos) << s;
  EXPECT_NE(s.find("    # membarrier: delivery/forbidden = 2 over 3 repetitions\n"
                   "    not ok 4 delivery\n"
                   + thin_line() +
                   "not ok 1 membarrier\n"),
            std::string::npos)
      << s;
  // Complete and clean: no "run" subtest, the plan as before.
  std::ostringstream clean;
  KtapWriter k2(clean, 1);
  k2.probe(summarize(d));
  EXPECT_NE(clean.str().find("    1..3\n"), std::string::npos) << clean.str();
  EXPECT_EQ(clean.str().find(" run\n"), std::string::npos) << clean.str();
  EXPECT_NE(clean.str().find("\nok 1 membarrier\n"), std::string::npos) << clean.str();
}

// Bundle text never spells a LAVA dispatcher signal (#25, item 11): the
// dispatcher matches "<LAVA_SIGNAL_(\S+) ([^>]+)>" anywhere in the job log,
// where KTAP lines and LAVA notes go.
TEST(Headline, TextNeverSpellsALavaSignal) {
  EXPECT_EQ(headline::one_line("x <LAVA_SIGNAL_ENDRUN x y> <LAVA_TEST_RUNNER EXIT>"),
            "x (LAVA_SIGNAL_ENDRUN x y> (LAVA_TEST_RUNNER EXIT>");
  EXPECT_EQ(headline::one_line("<<LAVA_SIGNAL_TESTCASE TEST_CASE_ID=a RESULT=pass>"),
            "<(LAVA_SIGNAL_TESTCASE TEST_CASE_ID=a RESULT=pass>");
  std::ostringstream o;
  KtapWriter k(o, 3);
  const std::string sig = "<LAVA_SIGNAL_ENDRUN x y>";
  k.probe({"ipi", "skipped", "needs " + sig, {}, {}, 0});
  k.probe({"notifier", "failed", "boom " + sig, {{"a" + sig + "/x", "value", 1, "faults/s", 2}},
           {headline::run_violation("failed", "boom " + sig), "litmus/" + sig + "/forbidden = 1"},
           0});
  k.not_run("cpumask", "not run: " + sig);
  EXPECT_EQ(o.str().find("<LAVA_"), std::string::npos) << o.str();
}
