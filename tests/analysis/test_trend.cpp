// SPDX-License-Identifier: GPL-2.0-only
// kperflab trend (issue #30): the change-point engine on seeded synthetic
// histories (every 10 % step found at 10 boots a side, at most one false
// change per 100 metrics without one), the history built from bundles
// (order by time and by kernel version, boots as units, the first bundle
// after a change), the refusals, and the text report against its golden.
// The rates the docs quote come from sim_trend (tests/analysis/sim_trend.cpp).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "analysis/trend.h"
#include "golden.h"
#include "synth.h"
#include "tests/common/tmpdir.h"

namespace kperflab::trend {
namespace {

using testing::SynthSpec;

// A history of n boots: lognormal boot-to-boot noise of SD sd, times
// (1 + step) from boot `at` on (at >= n: no step).
std::vector<double> history(std::mt19937_64& rng, size_t n, size_t at, double step, double sd,
                            double level = 1000) {
  std::normal_distribution<double> g(0, sd);
  std::vector<double> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = level * std::exp(g(rng)) * (i >= at ? 1 + step : 1);
  return v;
}

Metric metric_of(std::vector<double> v, size_t i) {
  return Metric{"synth", "op" + std::to_string(i) + "/latency", "p50", "ns", "lower", false,
                std::move(v)};
}

struct Tally {
  size_t steps = 0, found = 0, within1 = 0, exact = 0, flagged = 0;
  size_t false_changes = 0, null_metrics = 0;
};

// Reports of 100 metrics: `with_step` of them with a 10 % step (up, and
// down by as much, in turn) at 10 boots or more a side, the others without;
// lognormal boot-to-boot noise of SD 2-3 % per metric. A step is found when
// its metric is flagged within half a window (6 boots) of it; how close:
// within1, exact. Any other flag is a false change.
void run_reports(size_t reports, size_t with_step, uint64_t seed, Tally& t) {
  for (size_t rep = 0; rep < reports; ++rep) {
    std::mt19937_64 rng(seed + rep);
    std::uniform_real_distribution<double> sd(0.02, 0.03);
    // Half the reports 20 boots (the step in the middle), half 48 (anywhere
    // with 10 boots a side: the windows of 12 then fill on both sides).
    size_t n = rep % 2 ? 48 : 20;
    std::uniform_int_distribution<size_t> where(10, n - 10);
    std::vector<Metric> ms;
    std::vector<size_t> step_at;
    for (size_t i = 0; i < 100; ++i) {
      bool step = i < with_step;
      size_t at = step ? where(rng) : n;
      double size = i % 2 ? 1 / 1.1 - 1 : 0.10;
      ms.push_back(metric_of(history(rng, n, at, step ? size : 0, sd(rng)), i));
      step_at.push_back(at);
    }
    Detection d = detect(ms, Options{});
    t.flagged += d.flagged();
    for (size_t i = 0; i < ms.size(); ++i) {
      bool step = step_at[i] < n;
      t.steps += step;
      t.null_metrics += !step;
      bool hit = false;
      for (auto& c : d.peaks) {
        if (c.metric != i || !c.flagged) continue;
        size_t off = c.at > step_at[i] ? c.at - step_at[i] : step_at[i] - c.at;
        if (step && off <= 6 && !hit) {
          hit = true;
          t.within1 += off <= 1;
          t.exact += off == 0;
        } else {
          ++t.false_changes;
        }
      }
      t.found += hit;
    }
  }
}

TEST(Trend, FindsEveryTenPercentStepAtTenBootsASide) {
  Tally t;
  run_reports(10, 10, 1000, t);  // seeds 1000..1009: 100 steps, 900 metrics without one
  std::printf("10 %% steps at >= 10 boots a side, SD 2-3 %%: %zu of %zu found, %zu within 1 "
              "boot, %zu exactly; %zu false changes of %zu flagged\n",
              t.found, t.steps, t.within1, t.exact, t.false_changes, t.flagged);
  EXPECT_EQ(t.found, t.steps);  // every one
  EXPECT_GE(t.within1 * 100, t.steps * 97);  // sim_trend: 99.1 %
  EXPECT_GE(t.exact * 100, t.steps * 85);    // sim_trend: 93 %
  EXPECT_LE(t.false_changes * 100, t.null_metrics);
}

TEST(Trend, AtMostOneFalseChangePerHundredMetricsWithoutOne) {
  Tally t;
  run_reports(10, 0, 5000, t);  // 1000 metrics, seeds 5000..5009
  std::printf("1000 metrics without a change: %zu false changes\n", t.false_changes);
  EXPECT_EQ(t.null_metrics, 1000u);
  EXPECT_LE(t.false_changes, 10u);
}

TEST(Trend, TwoChangesAWindowApart) {
  std::mt19937_64 rng(7);
  auto v = history(rng, 50, 15, 0.10, 0.02);
  for (size_t i = 35; i < 50; ++i) v[i] *= 0.8;
  Detection d = detect({metric_of(v, 0)}, Options{});
  std::vector<size_t> at;
  for (auto& c : d.peaks)
    if (c.flagged) at.push_back(c.at);
  ASSERT_EQ(at.size(), 2u);
  EXPECT_NEAR(static_cast<double>(at[0]), 15, 1);
  EXPECT_NEAR(static_cast<double>(at[1]), 35, 1);
}

TEST(Trend, SmallWindowsKeepADegreeOfFreedom) {
  Options o;
  o.window = 1;  // the CLI refuses it; the engine takes 2 a side
  EXPECT_EQ(min_side(o), 2u);
  std::mt19937_64 rng(13);
  auto v = history(rng, 30, 15, 0.5, 0.02);
  Detection d = detect({metric_of(v, 0)}, o);
  ASSERT_FALSE(d.peaks.empty());
  for (auto& c : d.peaks) EXPECT_TRUE(std::isfinite(c.t) && c.df >= 2) << c.at;
  // Windows of 3 (df 4) find a 50 % step; of 2 (df 2) not even that, past
  // Bonferroni over 27 points.
  o.window = 3;
  d = detect({metric_of(v, 0)}, o);
  for (auto& c : d.peaks) EXPECT_EQ(c.flagged, c.at == 15) << c.at;
  EXPECT_EQ(d.flagged(), 1u);
}

TEST(Trend, ChangeSizeAndIntervalOnLogScale) {
  std::mt19937_64 rng(11);
  auto v = history(rng, 24, 12, 0.10, 0.02);
  Detection d = detect({metric_of(v, 0)}, Options{});
  ASSERT_EQ(d.flagged(), 1u);
  const Change& c = d.peaks[0];
  EXPECT_TRUE(c.log);
  EXPECT_EQ(c.at, 12u);
  EXPECT_EQ(c.prev, 11u);
  EXPECT_EQ(c.before_n, 12u);
  EXPECT_EQ(c.after_n, 12u);
  EXPECT_LT(c.lo, 0.10);
  EXPECT_GT(c.hi, 0.10);
  EXPECT_LT(c.lo, c.change);
  EXPECT_GT(c.hi, c.change);
  EXPECT_NEAR(c.abs_change, c.after - c.before, 1e-9);
  EXPECT_NEAR(c.abs_lo, c.before * c.lo, 1e-9);
  EXPECT_EQ(c.candidates, 24u - 2 * 5 + 1);
  EXPECT_NEAR(c.p_metric, std::min(1.0, c.p * 15), 1e-12);
  EXPECT_STREQ(verdict(c, metric_of(v, 0)), "regression");
}

TEST(Trend, MinimumEffectGatesSmallSignificantChanges) {
  std::mt19937_64 rng(3);
  auto v = history(rng, 40, 20, 0.01, 0.001);  // +1 %, very clearly, below the 2 % floor
  Options o;
  Detection d = detect({metric_of(v, 0)}, o);
  EXPECT_EQ(d.flagged(), 0u);
  double q = 1;
  for (auto& c : d.peaks)
    if (c.at == 20) q = c.q;
  EXPECT_LT(q, 1e-6);
  o.min_effect = 0.005;
  EXPECT_EQ(detect({metric_of(v, 0)}, o).flagged(), 1u);
}

TEST(Trend, ConstantAndQuantisedSeries) {
  Metric flat = metric_of(std::vector<double>(30, 1000), 0);
  flat.quantised = true;
  Detection d = detect({flat}, Options{});
  EXPECT_EQ(d.flagged(), 0u);
  // Two HDR buckets apart (1000 and 1100 ns are 8 ns buckets): a change.
  Metric stepped = flat;
  for (size_t i = 15; i < 30; ++i) stepped.v[i] = 1100;
  d = detect({stepped}, Options{});
  ASSERT_EQ(d.flagged(), 1u);
  EXPECT_EQ(d.peaks[0].at, 15u);
}

TEST(Trend, ZerosTestedOnALinearScale) {
  std::mt19937_64 rng(5);
  std::normal_distribution<double> g(0.05, 0.002);
  std::vector<double> v(24, 0);
  for (size_t i = 12; i < 24; ++i) v[i] = g(rng);
  Metric m{"synth", "retry", "value", "ratio", "lower", false, v};
  Detection d = detect({m}, Options{});
  ASSERT_EQ(d.flagged(), 1u);
  EXPECT_FALSE(d.peaks[0].log);
  EXPECT_EQ(d.peaks[0].at, 12u);
  EXPECT_TRUE(std::isinf(d.peaks[0].change));
  EXPECT_NEAR(d.peaks[0].abs_change, 0.05, 0.005);
}

TEST(Trend, MissingValuesKeepTheirUnits) {
  std::mt19937_64 rng(9);
  auto v = history(rng, 30, 16, 0.15, 0.02);
  v[3] = v[14] = NAN;  // two boots without this metric
  Detection d = detect({metric_of(v, 0)}, Options{});
  ASSERT_EQ(d.flagged(), 1u);
  EXPECT_EQ(d.peaks[0].at, 16u);
  EXPECT_EQ(d.peaks[0].prev, 15u);
  // Too short: fewer than 10 values.
  std::vector<double> few(30, NAN);
  for (size_t i = 0; i < 9; ++i) few[i] = 1;
  d = detect({metric_of(few, 0)}, Options{});
  EXPECT_EQ(d.short_metrics, 1u);
  EXPECT_EQ(d.tested, 0u);
}

TEST(Trend, VersionOrder) {
  EXPECT_LT(version_compare("6.1.0-1", "6.1.0-10"), 0);
  EXPECT_LT(version_compare("6.1.0-10", "6.12.0"), 0);
  EXPECT_LT(version_compare("6.1.0-9-amd64", "6.1.0-10-amd64"), 0);
  EXPECT_GT(version_compare("6.12.0", "6.1.0-1"), 0);
  EXPECT_EQ(version_compare("6.12.0", "6.12.0"), 0);
  EXPECT_EQ(version_compare("6.01", "6.1"), 0);
  EXPECT_LT(version_compare("6.12", "6.12.1"), 0);
  EXPECT_LT(version_compare("6.12.0-rc1", "6.12.0-rc2"), 0);
}

TEST(Trend, EpochSeconds) {
  EXPECT_EQ(epoch_seconds("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(epoch_seconds("2026-02-28T23:59:59Z"), 1772323199);
  EXPECT_EQ(epoch_seconds("2026-03-01T00:59:59.5+01:00"), 1772323199.5);
  EXPECT_EQ(epoch_seconds("2000-02-29T12:00:00-02:30"), 951825600 + 9000);
  EXPECT_TRUE(std::isnan(epoch_seconds("")));
  EXPECT_TRUE(std::isnan(epoch_seconds("2026-02-28 23:59:59")));
}

// A history of bundles, one a boot: boot i of release[i], its latencies
// times scale[i], started an hour apart from 2026-03-01T00:00:00Z.
void write_history(const std::filesystem::path& dir, const std::vector<std::string>& release,
                   const std::vector<double>& scale) {
  for (size_t i = 0; i < release.size(); ++i) {
    SynthSpec s;
    s.metrics = 2;
    s.repetitions = 3;
    s.samples = 300;
    s.seed = 100 + i;
    s.boot_noise = 0.02;
    s.release = release[i];
    s.boot_id = "boot" + std::to_string(i);
    s.scale = scale[i];
    char when[48];
    std::snprintf(when, sizeof when, "2026-03-%02zuT%02zu:00:00Z", 1 + i / 24, i % 24);
    s.meta_patch = {{"started", when}};
    testing::write_synth_bundle(dir / ("b" + std::to_string(100 + i)), s);
  }
}

bool flagged_at(const Result& r, const std::string& key, size_t unit) {
  for (const Change* c : r.changes())
    if (r.metrics[c->metric].key() == key && c->at == unit) return true;
  return false;
}

TEST(Trend, HistoryOfBundlesByTime) {
  testing::TmpDir tmp;
  // 12 boots of 6.1.0-10, then 12 of 6.12.0, 10 % slower.
  std::vector<std::string> rel(24, "6.1.0-10");
  std::vector<double> scale(24, 1.0);
  for (size_t i = 12; i < 24; ++i) rel[i] = "6.12.0", scale[i] = 1.1;
  write_history(tmp.path, rel, scale);
  auto side = compare::Side::load(tmp.path);
  Result r = build(side, tmp.path.string(), Options{});
  ASSERT_EQ(r.units.size(), 24u);
  EXPECT_TRUE(flagged_at(r, "synth/op0/latency:p50", 12));
  EXPECT_TRUE(flagged_at(r, "synth/op1/latency:p50", 12));
  const BundleRef& first = r.first_bundle(12);
  EXPECT_EQ(std::filesystem::path(first.path).filename(), "b112");
  EXPECT_EQ(first.release, "6.12.0");
  EXPECT_EQ(first.started, "2026-03-01T12:00:00Z");
  // The rates (unit 1/s) did not move.
  EXPECT_FALSE(flagged_at(r, "synth/op0/rate:value", 12));
  // headline.h's selection: p50 and p99 of histograms, rates.
  std::set<std::string> keys;
  for (auto& m : r.metrics) keys.insert(m.key());
  EXPECT_EQ(keys, (std::set<std::string>{"synth/op0/latency:p50", "synth/op0/latency:p99",
                                         "synth/op0/rate:value", "synth/op1/latency:p50",
                                         "synth/op1/latency:p99", "synth/op1/rate:value"}));
}

TEST(Trend, KernelOrderAndBootsAsUnits) {
  testing::TmpDir tmp;
  // In time, 6.12.0 ran first (10 % slower) and 6.1.0-9 last: by kernel,
  // 6.1.0-9 < 6.1.0-10 < 6.12.0, and 6.12.0 comes after 12 boots.
  std::vector<std::string> rel(24);
  std::vector<double> scale(24, 1.0);
  for (size_t i = 0; i < 24; ++i) rel[i] = i < 12 ? "6.12.0" : i < 18 ? "6.1.0-10" : "6.1.0-9";
  for (size_t i = 0; i < 12; ++i) scale[i] = 1.1;
  write_history(tmp.path, rel, scale);
  // A second run in boot 20 is the same unit.
  SynthSpec again;
  again.metrics = 2, again.repetitions = 3, again.samples = 300, again.seed = 999;
  again.release = "6.1.0-9", again.boot_id = "boot20", again.boot_noise = 0.02;
  again.meta_patch = {{"started", "2026-03-01T20:30:00Z"}};
  testing::write_synth_bundle(tmp.path / "b120-again", again);
  auto side = compare::Side::load(tmp.path);
  Options o;
  o.by_kernel = true;
  Result r = build(side, "history", o);
  EXPECT_EQ(r.bundles.size(), 25u);
  ASSERT_EQ(r.units.size(), 24u);
  EXPECT_EQ(r.first_bundle(0).release, "6.1.0-9");
  EXPECT_EQ(r.first_bundle(6).release, "6.1.0-10");
  EXPECT_EQ(r.first_bundle(12).release, "6.12.0");
  EXPECT_TRUE(flagged_at(r, "synth/op0/latency:p50", 12));
  EXPECT_EQ(std::filesystem::path(r.first_bundle(12).path).filename(), "b100");
  EXPECT_EQ((std::vector<std::string>{"6.1.0-9", "6.1.0-10", "6.12.0"}), r.kernels());
  // By time the same history changes the other way at boot 12 (6.12.0 ->
  // 6.1.0-10, faster).
  Result t = build(side, "history", Options{});
  EXPECT_TRUE(flagged_at(t, "synth/op0/latency:p50", 12));
  EXPECT_EQ(t.first_bundle(12).release, "6.1.0-10");
  for (const Change* c : t.changes())
    if (c->at == 12) {
      EXPECT_STREQ(verdict(*c, t.metrics[c->metric]), "improvement");
    }
}

TEST(Trend, RefusesTooShortHistoriesAndMixedHosts) {
  testing::TmpDir tmp;
  write_history(tmp.path, std::vector<std::string>(9, "6.12.0"), std::vector<double>(9, 1.0));
  auto side = compare::Side::load(tmp.path);
  try {
    build(side, "tag:short", Options{});
    FAIL() << "9 boots accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("tag:short has 9 bundles in 9 boots; two windows need "
                                         "10 boots at least"),
              std::string::npos)
        << e.what();
  }
  SynthSpec other;
  other.host = "elsewhere";
  other.metrics = 1, other.repetitions = 2, other.samples = 50, other.boot_id = "x";
  testing::write_synth_bundle(tmp.path / "other", other);
  other.boot_id = "y";
  testing::write_synth_bundle(tmp.path / "other2", other);
  side = compare::Side::load(tmp.path);
  EXPECT_THROW(build(side, "mixed", Options{}), std::invalid_argument);
  Options o;
  o.cross_host = true;
  EXPECT_NO_THROW(build(side, "mixed", o));
  o.probes = {"nope"};
  EXPECT_THROW(build(side, "mixed", o), std::invalid_argument);
}

// A Result built by hand (fixed paths), for the golden text report.
Result golden_result() {
  Result r;
  r.source = "host:srv1+probe:synth";
  r.machine = "srv1, Synthetic CPU, 4 CPUs";
  const size_t n = 24;
  for (size_t i = 0; i < n; ++i) {
    char when[32], path[96];
    std::snprintf(when, sizeof when, "2026-03-%02zuT08:00:00Z", i + 1);
    std::snprintf(path, sizeof path, "results/runs/srv1/%s/202603%02zuT080000Z-%04zx",
                  i < 12 ? "6.1.0-10-amd64" : "6.12.0-1-amd64", i + 1, 0xa000 + i);
    r.bundles.push_back({path, when, i < 12 ? "6.1.0-10-amd64" : "6.12.0-1-amd64",
                         "boot" + std::to_string(i)});
    r.units.push_back({"boot" + std::to_string(i), {i}});
  }
  std::mt19937_64 rng(42);
  r.metrics.push_back(Metric{"synth", "op0/latency", "p50", "ns", "lower", true,
                             history(rng, n, 12, 0.10, 0.02, 1200)});
  r.metrics.push_back(Metric{"synth", "op0/latency", "p99", "ns", "lower", true,
                             history(rng, n, n, 0, 0.03, 2400)});
  r.metrics.push_back(Metric{"synth", "op1/rate", "value", "1/s", "higher", false,
                             history(rng, n, 12, -0.08, 0.01, 1e6)});
  r.det = detect(r.metrics, r.opt);
  return r;
}

TEST(Trend, GoldenText) {
  Result r = golden_result();
  std::string t = text(r);
  testing::golden("trend.txt", t);
  std::istringstream in(t);
  for (std::string line; std::getline(in, line);) {
    EXPECT_LE(line.size(), 80u) << line;
    for (unsigned char c : line) EXPECT_LT(c, 0x80) << line;
  }
  testing::golden("trend.md", markdown(r));
  auto j = to_json(r);
  EXPECT_EQ(j["schema"], "kperflab.trend/1");
  ASSERT_EQ(j["changes"].size(), 2u);
  EXPECT_EQ(j["changes"][0]["first_after"]["unit"], 12);
  std::string h = html(r);
  EXPECT_EQ(h.find("<script"), std::string::npos);
  EXPECT_NE(h.find("class='change'"), std::string::npos);
  EXPECT_NE(h.find("<svg"), std::string::npos);
}

}  // namespace
}  // namespace kperflab::trend
