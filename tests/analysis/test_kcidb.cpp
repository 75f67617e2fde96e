// SPDX-License-Identifier: GPL-2.0-only
// export --kcidb (analysis/kcidb.h) on synthetic bundles: ids, paths,
// numbers and statuses, and a known regression turning its figures FAIL.
// The schema itself is checked on real bundles by tests/core/cli_kcidb.sh.
#include <gtest/gtest.h>

#include <regex>
#include <set>

#include "analysis/kcidb.h"
#include "results/headline.h"
#include "synth.h"
#include "tests/common/tmpdir.h"

namespace fs = std::filesystem;
namespace kcidb = kperflab::kcidb;
using kperflab::Bundle;
using kperflab::compare::Side;
using kperflab::compare::Verdict;
using kperflab::testing::SynthSpec;
using kperflab::testing::write_synth_bundle;
using nlohmann::json;

namespace {

struct Tmp : kperflab::testing::TmpDir {
  const fs::path& p = path;
};

const char* kSha = "1f62876b1dfaf1019363f587307e561bf3c36e9df2fd31d9491503fbce107ac7";

SynthSpec spec(uint64_t seed, double scale = 1.0) {
  SynthSpec s;
  s.metrics = 3;
  s.repetitions = 8;
  s.samples = 500;
  s.seed = seed;
  s.scale = scale;
  s.meta_patch = {{"kernel", {{"machine", "x86_64"},
                              {"config", {{"source", "/proc/config.gz"}, {"sha256", kSha},
                                          {"options", {{"CONFIG_HZ", "250"}}}}}}}};
  return s;
}

// KCIDB v5.3 patterns (kcidb-io v05_03.py), as the schema file has them.
const std::regex kId("[a-z0-9_]+:[^\\x00]*");
const std::regex kPath("([a-zA-Z0-9_-]+(\\.[a-zA-Z0-9_-]+)*)?");

size_t count_status(const json& r, const std::string& status) {
  size_t n = 0;
  for (auto& t : r["tests"]) n += t["status"] == status;
  return n;
}

}  // namespace

TEST(Kcidb, NumberTimesInSecondsWithMetricPrefix) {
  json n = kcidb::number(1500, "ns");
  EXPECT_DOUBLE_EQ(n["value"].get<double>(), 1.5e-6);
  EXPECT_EQ(n["unit"], "s");
  EXPECT_EQ(n["prefix"], "metric");
  EXPECT_DOUBLE_EQ(kcidb::number(2000, "ps")["value"].get<double>(), 2e-9);
  EXPECT_EQ(kcidb::number(1e6, "ops/s"), json({{"value", 1e6}, {"unit", "ops/s"},
                                               {"prefix", "metric"}}));
  EXPECT_EQ(kcidb::number(0.5, "ratio"), json({{"value", 0.5}}));  // dimensionless
  EXPECT_EQ(kcidb::number(3, "per_million"), json({{"value", 3}, {"unit", "per_million"}}));
}

TEST(Kcidb, PathsFitTheSchemaPattern) {
  EXPECT_EQ(kcidb::test_path("membarrier"), "kperflab.membarrier");
  EXPECT_EQ(kcidb::test_path("membarrier", "private_expedited/targets=1/spin/latency", "p50"),
            "kperflab.membarrier.private_expedited.targets-1.spin.latency.p50");
  // Empty components (a metric with "//", a leading or trailing '/').
  std::string odd = kcidb::test_path("p", "/a//b c/", "p99");
  EXPECT_EQ(odd, "kperflab.p._.a._.b_c._.p99");
  EXPECT_TRUE(std::regex_match(odd, kPath)) << odd;
}

TEST(Kcidb, StatusOfVerdict) {
  EXPECT_STREQ(kcidb::status_of(Verdict::regression), "FAIL");
  EXPECT_STREQ(kcidb::status_of(Verdict::unchanged), "PASS");
  EXPECT_STREQ(kcidb::status_of(Verdict::improvement), "PASS");
  EXPECT_STREQ(kcidb::status_of(Verdict::change), "PASS");
  EXPECT_STREQ(kcidb::status_of(Verdict::undecided), "DONE");
}

TEST(Kcidb, Origin) {
  EXPECT_TRUE(kcidb::valid_origin("kperflab"));
  EXPECT_TRUE(kcidb::valid_origin("my_lab2"));
  EXPECT_FALSE(kcidb::valid_origin(""));
  EXPECT_FALSE(kcidb::valid_origin("My-Lab"));
  Tmp t;
  std::vector<Bundle> b{Bundle::load(write_synth_bundle(t.p / "a", spec(1)))};
  kcidb::Options o;
  o.origin = "a:b";
  EXPECT_THROW(kcidb::report(b, o), std::invalid_argument);
}

TEST(Kcidb, WithoutBaselineEveryTestIsDone) {
  Tmp t;
  std::vector<Bundle> b{Bundle::load(write_synth_bundle(t.p / "a", spec(1)))};
  json r = kcidb::report(b, {});
  EXPECT_EQ(r["version"], json({{"major", 5}, {"minor", 3}}));
  ASSERT_EQ(r["checkouts"].size(), 1u);
  ASSERT_EQ(r["builds"].size(), 1u);
  json co = r["checkouts"][0], build = r["builds"][0];
  EXPECT_EQ(co["origin"], "kperflab");
  EXPECT_EQ(co["misc"]["kernel_release"], "6.12.0-synth");
  EXPECT_EQ(build["checkout_id"], co["id"]);
  EXPECT_EQ(build["misc"]["config_sha256"], kSha);
  EXPECT_EQ(build["architecture"], "x86_64");
  size_t figures = 0, probes = 0;
  for (auto& p : kperflab::headline::summarize(b[0])) figures += p.figures.size(), ++probes;
  EXPECT_EQ(figures, 9u);  // 3 metrics: p50, p99 of the latency, the rate
  ASSERT_EQ(r["tests"].size(), figures + probes);
  EXPECT_EQ(count_status(r, "DONE"), figures + probes);
  std::set<std::string> ids;
  for (auto& test : r["tests"]) {
    std::string id = test["id"], path = test["path"];
    EXPECT_TRUE(std::regex_match(id, kId)) << id;
    EXPECT_TRUE(std::regex_match(path, kPath)) << path;
    EXPECT_TRUE(ids.insert(id).second) << "duplicate " << id;
    EXPECT_EQ(test["build_id"], build["id"]);
    EXPECT_EQ(test["environment"]["misc"]["hostname"], "synth-host");
  }
  json lat = r["tests"][0];  // sorted by metric: op0/latency p50 first
  EXPECT_EQ(lat["path"], "kperflab.synth.op0.latency.p50");
  EXPECT_EQ(lat["id"], "kperflab:a:synth:op0/latency:p50");
  EXPECT_EQ(lat["number"]["unit"], "s");
  EXPECT_NEAR(lat["number"]["value"].get<double>(), 1e-6, 0.1e-6);  // median 1000 ns
  EXPECT_EQ(lat["misc"]["unit"], "ns");
  EXPECT_EQ(lat["misc"]["repetitions"], 8);
}

TEST(Kcidb, ARegressionFailsItsFiguresAndItsProbe) {
  Tmp t;
  Side base = Side::load(write_synth_bundle(t.p / "base", spec(1)));
  std::vector<Bundle> cand{Bundle::load(write_synth_bundle(t.p / "slow", spec(2, 1.10))),
                           Bundle::load(write_synth_bundle(t.p / "same", spec(3)))};
  kcidb::Options o;
  o.baseline = &base;
  // One boot a side: published as DONE (no verdict), never FAIL ...
  json untrusted = kcidb::report(cand, o);  // held: a range-for over a temporary's member dangles
  for (auto& test : untrusted["tests"]) EXPECT_NE(test["status"], "FAIL") << test["id"];
  // ... unless the user trusts one boot (issue #25).
  o.compare.trust_one_boot = true;
  json r = kcidb::report(cand, o);
  // One kernel, one config: one checkout and build for both bundles.
  EXPECT_EQ(r["checkouts"].size(), 1u);
  EXPECT_EQ(r["builds"].size(), 1u);
  std::map<std::string, std::string> status;
  for (auto& test : r["tests"]) status[test["id"]] = test["status"];
  for (int i = 0; i < 3; ++i) {
    std::string op = "synth:op" + std::to_string(i);
    EXPECT_EQ(status["kperflab:slow:" + op + "/latency:p50"], "FAIL") << op;
    EXPECT_EQ(status["kperflab:slow:" + op + "/rate:value"], "PASS") << op;
    EXPECT_NE(status["kperflab:same:" + op + "/latency:p50"], "FAIL") << op;
  }
  EXPECT_EQ(status["kperflab:slow:synth"], "FAIL");  // the highest of its parts
  EXPECT_NE(status["kperflab:same:synth"], "FAIL");
  for (auto& test : r["tests"]) {
    if (test["id"] != "kperflab:slow:synth:op0/latency:p50") continue;
    json c = test["misc"]["comparison"];
    EXPECT_EQ(c["verdict"], "REGRESSION");
    EXPECT_NEAR(c["change"].get<double>(), 0.10, 0.03);
    EXPECT_TRUE(c.contains("q") && c.contains("p") && c.contains("basis"));
  }
}

TEST(Kcidb, OneBundleIdTwiceIsRefused) {
  Tmp t;
  fs::path a = write_synth_bundle(t.p / "x" / "same", spec(1));
  fs::path b = write_synth_bundle(t.p / "y" / "same", spec(2));
  std::vector<Bundle> both{Bundle::load(a), Bundle::load(b)};
  EXPECT_THROW(kcidb::report(both, {}), std::invalid_argument);
}
