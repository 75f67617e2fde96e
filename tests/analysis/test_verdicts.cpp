// SPDX-License-Identifier: GPL-2.0-only
// Verdicts worth publishing (issues #25, #32), each on a synthetic case
// that the earlier engine got wrong: no p = 0 from a missing or quantised
// variance, one unit a side decides nothing, a zero base can be flagged,
// the noise model fits or is not used, one boot's shift is shown as one,
// runs within a boot are the units.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>

#include "analysis/compare.h"
#include "analysis/noise.h"
#include "analysis/report.h"
#include "analysis/stats.h"
#include "analysis/verdicts.h"
#include "synth.h"
#include "tests/common/tmpdir.h"

namespace fs = std::filesystem;
using kperflab::compare::Basis;
using kperflab::compare::Options;
using kperflab::compare::Result;
using kperflab::compare::Row;
using kperflab::compare::Side;
using kperflab::compare::Verdict;
using kperflab::testing::boots;
using kperflab::testing::SynthSpec;
using kperflab::testing::write_synth_bundle;

namespace {

struct Tmp : kperflab::testing::TmpDir {
  const fs::path& p = path;
};

Result run(const fs::path& a, const fs::path& b, Options o = {}) {
  o.noise = o.noise.empty() ? "none" : o.noise;
  return kperflab::compare::compare(Side::load(a), Side::load(b), o);
}

const Row* find(const Result& r, const std::string& metric, const std::string& stat) {
  for (auto& row : r.rows)
    if (row.metric == metric && row.stat == stat) return &row;
  return nullptr;
}

bool flagged(const Row& r) {
  return r.verdict != Verdict::unchanged && r.verdict != Verdict::undecided;
}

bool warned(const Result& r, const std::string& what) {
  for (auto& w : r.warnings)
    if (w.find(what) != std::string::npos) return true;
  return false;
}

}  // namespace

// #25.1: a metric present in one boot per side of a report over several
// boots has no variance: undecided, never p = 0 (was REGRESSION p=0).
TEST(Verdicts, OneBootPerSideOfAMetricIsUndecided) {
  Tmp t;
  SynthSpec s;
  s.metrics = 3;
  s.repetitions = 4;
  s.boot_noise = 0.01;
  boots(t.p / "a", "a", 3, s, 1);
  boots(t.p / "b", "b", 3, s, 20);
  SynthSpec extra = s;
  extra.boot_id = "a9";
  extra.scalars = {{"fail/fraction", 1.0}};
  write_synth_bundle(t.p / "a" / "a9", extra);
  extra.boot_id = "b9";
  extra.scalars = {{"fail/fraction", 1.03}};
  write_synth_bundle(t.p / "b" / "b9", extra);
  auto r = run(t.p / "a", t.p / "b");
  const Row* x = find(r, "fail/fraction", "value");
  ASSERT_NE(x, nullptr);
  EXPECT_EQ(x->base_n, 1u);
  EXPECT_EQ(x->verdict, Verdict::undecided);
  EXPECT_TRUE(std::isnan(x->p) || x->p > 0.5) << x->p;
  EXPECT_GT(x->p_adj, 0.05);
  EXPECT_TRUE(warned(r, "fewer than 2 units on a side"));
}

// #25.2, #32: one boot (or one run) a side decides nothing and fails no CI
// job, unless the user trusts the repetitions.
TEST(Verdicts, OneUnitASideDoesNotGate) {
  Tmp t;
  SynthSpec a;
  SynthSpec b = a;
  b.seed = 2;
  b.scale = 1.10;
  write_synth_bundle(t.p / "a", a);
  write_synth_bundle(t.p / "b", b);
  auto r = run(t.p / "a", t.p / "b");
  EXPECT_EQ(r.basis, Basis::confounded);
  EXPECT_FALSE(r.gating);
  EXPECT_EQ(r.regressions(), 0u);
  EXPECT_TRUE(warned(r, "cannot decide"));
  Options trust;
  trust.trust_one_boot = true;
  auto t1 = run(t.p / "a", t.p / "b", trust);
  EXPECT_TRUE(t1.gating);
  EXPECT_GE(t1.regressions(), a.metrics);
  // Two runs in one boot, one after the other: one unit a side as well.
  SynthSpec c = a, d = a;
  c.boot_id = d.boot_id = "same";
  d.seed = 3;
  d.scale = 1.10;
  write_synth_bundle(t.p / "c", c);
  write_synth_bundle(t.p / "d", d);
  auto one = run(t.p / "c", t.p / "d");
  EXPECT_EQ(one.basis, Basis::one_boot);
  EXPECT_EQ(one.regressions(), 0u);
  EXPECT_TRUE(warned(one, "kperflab ab"));
}

// #32: several runs a side in one boot are the units; runs that do not
// alternate in time are said to be so.
TEST(Verdicts, RunsInOneBootAreTheUnits) {
  Tmp t;
  SynthSpec s;
  s.boot_id = "one";
  s.repetitions = 4;
  s.boot_noise = 0.01;
  SynthSpec c = s;
  c.scale = 1.10;
  const char* times[] = {"2026-01-01T10:00:00Z", "2026-01-01T10:01:00Z", "2026-01-01T10:02:00Z",
                         "2026-01-01T10:03:00Z", "2026-01-01T10:04:00Z", "2026-01-01T10:05:00Z"};
  // A B B A A B: interleaved.
  int order[] = {0, 3, 4, 1, 2, 5};
  for (int i = 0; i < 3; ++i) {
    s.seed = 10 + i;
    s.meta_patch = {{"started", times[order[i]]}};
    write_synth_bundle(t.p / "a" / std::to_string(i), s);
    c.seed = 20 + i;
    c.meta_patch = {{"started", times[order[3 + i]]}};
    write_synth_bundle(t.p / "b" / std::to_string(i), c);
  }
  auto r = run(t.p / "a", t.p / "b");
  EXPECT_EQ(r.basis, Basis::runs);
  EXPECT_TRUE(r.gating);
  EXPECT_FALSE(warned(r, "not interleaved"));
  const Row* x = find(r, "op0/latency", "p50");
  ASSERT_NE(x, nullptr);
  EXPECT_EQ(x->base_n, 3u);
  EXPECT_EQ(x->verdict, Verdict::regression);
  // A A A then B B B: the same units, and a warning.
  for (int i = 0; i < 3; ++i) {
    s.seed = 10 + i;
    s.meta_patch = {{"started", times[i]}};
    write_synth_bundle(t.p / "c" / std::to_string(i), s);
    c.seed = 20 + i;
    c.meta_patch = {{"started", times[3 + i]}};
    write_synth_bundle(t.p / "d" / std::to_string(i), c);
  }
  EXPECT_TRUE(warned(run(t.p / "c", t.p / "d"), "not interleaved"));
}

// #25.3: values that are exact integers of a bucket (48,48,48 v 47,47,47)
// have a rounding variance: no p ~ 1e-28 (was p = 0, flagged).
TEST(Verdicts, QuantisedValuesKeepTheirRoundingVariance) {
  Tmp t;
  SynthSpec s;
  s.metrics = 1;
  s.repetitions = 4;
  s.fixed_latency = 48;
  boots(t.p / "a", "a", 3, s, 1);
  s.fixed_latency = 47;
  boots(t.p / "b", "b", 3, s, 10);
  auto r = run(t.p / "a", t.p / "b");
  // p50 = p90 = p99 = mean (every sample 48): one row, named after the
  // first statistic, still floored as a quantile.
  const Row* x = find(r, "op0/latency", "mean");
  ASSERT_NE(x, nullptr);
  ASSERT_FALSE(x->aliases.empty());
  EXPECT_GT(x->p, 1e-3);  // was 0: se = 0
  // The realistic case: 48..240 ns metrics whose boots differ by 1 %, A/A
  // 3 v 3: the per-boot medians often tie within a side, and flag nothing.
  SynthSpec q;
  q.metrics = 5;
  q.scale = 0.048;
  q.repetitions = 4;
  q.boot_noise = 0.01;
  size_t flags = 0;
  for (int trial = 0; trial < 5; ++trial) {
    fs::path d = t.p / ("aa" + std::to_string(trial));
    auto aa = run(boots(d / "a", "a", 3, q, 100 * trial + 1), boots(d / "b", "b", 3, q, 100 * trial + 50));
    for (auto& row : aa.rows) flags += flagged(row);
  }
  EXPECT_LE(flags, 1u);
  EXPECT_NEAR(kperflab::stats::hdr_quantisation_var(48), 1.0 / 12, 1e-12);
  EXPECT_NEAR(kperflab::stats::hdr_quantisation_var(300), 4.0 / 12, 1e-12);
}

// #25.7: a failure fraction 0 in every base boot that appears in every
// candidate boot is a regression (was "unchanged, min_eff=inf").
TEST(Verdicts, ZeroBaseCanBeFlagged) {
  Tmp t;
  SynthSpec s;
  s.metrics = 2;
  s.repetitions = 3;
  for (int i = 0; i < 3; ++i) {
    s.seed = 1 + i;
    s.boot_id = "a" + std::to_string(i);
    s.scalars = {{"ipi/missed_ipi_fraction", 0.0}};
    write_synth_bundle(t.p / "a" / s.boot_id, s);
    s.seed = 10 + i;
    s.boot_id = "b" + std::to_string(i);
    s.scalars = {{"ipi/missed_ipi_fraction", 0.18 + 0.02 * i}};
    write_synth_bundle(t.p / "b" / s.boot_id, s);
  }
  auto r = run(t.p / "a", t.p / "b");
  const Row* x = find(r, "ipi/missed_ipi_fraction", "value");
  ASSERT_NE(x, nullptr);
  EXPECT_TRUE(x->absolute);
  EXPECT_EQ(x->verdict, Verdict::regression) << x->note;
  EXPECT_NEAR(x->change, 0.2, 1e-9);
  EXPECT_TRUE(std::isfinite(x->min_effect));
  kperflab::compare::Side a = Side::load(t.p / "a"), b = Side::load(t.p / "b");
  kperflab::report::Input in{&a, {&b}, {r}, false, 0.05};
  std::string text = kperflab::report::text(in);
  EXPECT_NE(text.find("+0.2 count"), std::string::npos) << text;
  EXPECT_NE(text.find("min 2.0%"), std::string::npos) << text;  // #25.9: shown per row
}

// #25.5: one boot whose every metric moved: its shift is shown, each probe
// has a geometric-mean row, and flagged rows that lean on it are said to.
TEST(Verdicts, OneBootShiftIsShownAsOne) {
  Tmp t;
  SynthSpec s;
  s.metrics = 30;
  s.repetitions = 3;
  s.samples = 1000;
  s.boot_noise = 0.005;
  boots(t.p / "a", "a", 4, s, 1);
  boots(t.p / "b", "b", 3, s, 30);
  s.common_shift = 0.15;
  s.boot_id = "b3";
  s.seed = 99;
  write_synth_bundle(t.p / "b" / "b3", s);
  auto r = run(t.p / "a", t.p / "b");
  EXPECT_EQ(r.basis, Basis::boots);
  bool shown = false;
  for (auto& u : r.shifts)
    if (u.cand && u.unit == "b3") {
      shown = true;
      EXPECT_NEAR(u.shift, 0.12, 0.04);
    }
  EXPECT_TRUE(shown);
  const Row* gm = find(r, "geomean", "gm");
  ASSERT_NE(gm, nullptr);
  EXPECT_TRUE(gm->summary);
  size_t n = 0;
  for (auto& row : r.rows) n += flagged(row) && !row.summary;
  if (n >= 3) {
    EXPECT_TRUE(warned(r, "flagged rows are not significant without candidate unit b3"));
  }
}

// #25.9: the same boots on both sides (A/B interleaved in each boot) are
// paired; a quantile with fewer than 10/(1-q) samples is left out; the
// values shown are those the change is computed from; units must agree.
TEST(Verdicts, PairedThinQuantilesAndUnits) {
  Tmp t;
  SynthSpec s;
  s.metrics = 3;
  s.repetitions = 3;
  s.samples = 200;
  s.boot_noise = 0.03;
  boots(t.p / "a", "x", 4, s, 1);
  SynthSpec c = s;
  c.scale = 1.05;
  boots(t.p / "b", "x", 4, c, 1);  // the same boots, the same boot effects
  auto r = run(t.p / "a", t.p / "b");
  EXPECT_EQ(r.basis, Basis::paired);
  const Row* x = find(r, "op0/latency", "p50");
  ASSERT_NE(x, nullptr);
  EXPECT_EQ(x->base_n, 4u);
  EXPECT_NEAR(x->cand_median / x->base_median - 1, x->change, 1e-9);
  EXPECT_EQ(find(r, "op0/latency", "p99"), nullptr);  // 200 samples < 1000
  EXPECT_NE(find(r, "op0/latency", "p90"), nullptr);
  EXPECT_TRUE(warned(r, "quantile values left out"));
  SynthSpec u = s;
  u.latency_unit = "us";
  boots(t.p / "c", "y", 3, u, 1);
  boots(t.p / "d", "z", 3, s, 1);
  auto mixed = run(t.p / "c", t.p / "d");
  EXPECT_EQ(find(mixed, "op0/latency", "p50"), nullptr);
  EXPECT_TRUE(warned(mixed, "different unit on each side"));
}

// #25.6: A/A at 10 v 10 boots does not ask for dozens of boots.
TEST(Verdicts, BootsNeededIsAPowerEstimate) {
  Tmp t;
  SynthSpec s;
  s.metrics = 40;
  s.repetitions = 3;
  s.samples = 500;
  s.boot_noise = 0.02;
  auto r = run(boots(t.p / "a", "a", 10, s, 1), boots(t.p / "b", "b", 10, s, 100));
  EXPECT_EQ(r.regressions(), 0u);
  EXPECT_LE(r.boots_needed, 30u);
}

// #25.8: a noise model needs 8 boots, records when it was built, and is
// not used for bundles with other repetitions per boot or another kernel.
TEST(Verdicts, NoiseModelFitsOrIsNotUsed) {
  Tmp t;
  SynthSpec s;
  s.metrics = 3;
  s.repetitions = 4;
  s.boot_noise = 0.03;
  boots(t.p / "few", "f", 5, s, 1);
  EXPECT_THROW(kperflab::compare::NoiseModel::build(Side::load(t.p / "few")),
               std::invalid_argument);
  boots(t.p / "aa", "n", 8, s, 1);
  auto nm = kperflab::compare::NoiseModel::build(Side::load(t.p / "aa"));
  EXPECT_FALSE(nm.created.empty());
  std::ofstream(t.p / "noise.json") << nm.to_json().dump();
  EXPECT_EQ(kperflab::compare::NoiseModel::load(t.p / "noise.json").created, nm.created);
  Options o;
  o.noise = (t.p / "noise.json").string();
  SynthSpec a = s, b = s;
  a.boot_id = "x";
  b.boot_id = "y";
  b.seed = 7;
  write_synth_bundle(t.p / "x", a);
  write_synth_bundle(t.p / "y", b);
  auto fit = run(t.p / "x", t.p / "y", o);
  EXPECT_EQ(fit.basis, Basis::noise);
  EXPECT_TRUE(warned(fit, "less than a day old"));
  b.repetitions = 10;
  write_synth_bundle(t.p / "y10", b);
  auto other = run(t.p / "x", t.p / "y10", o);
  EXPECT_EQ(other.basis, Basis::confounded);
  EXPECT_TRUE(warned(other, "repetitions per boot"));
  a.release = "6.1.0-other";
  write_synth_bundle(t.p / "k", a);
  auto kernel = run(t.p / "k", t.p / "y", o);
  EXPECT_EQ(kernel.basis, Basis::confounded);
  EXPECT_TRUE(warned(kernel, "other kernels"));
}

// The moderation's parts against known values (limma's fitFDist on the
// same inputs; digamma and trigamma at textbook points).
TEST(Verdicts, VariancePriorMath) {
  using namespace kperflab::stats;
  EXPECT_NEAR(digamma(1), -0.5772156649, 1e-9);
  EXPECT_NEAR(trigamma(1), 1.6449340668, 1e-9);
  EXPECT_NEAR(trigamma(trigamma_inverse(0.3)), 0.3, 1e-8);
  // Variances drawn from one scaled inverse chi-square: the fit finds its
  // scale and a finite df.
  std::vector<double> s2, df;
  uint64_t x = 12345;
  for (int i = 0; i < 2000; ++i) {
    double sum = 0;
    for (int k = 0; k < 4; ++k) {  // 4 df
      x = x * 6364136223846793005ULL + 1442695040888963407ULL;
      double u1 = ((x >> 11) + 0.5) / 9007199254740992.0;
      x = x * 6364136223846793005ULL + 1442695040888963407ULL;
      double u2 = ((x >> 11) + 0.5) / 9007199254740992.0;
      double z = std::sqrt(-2 * std::log(u1)) * std::cos(6.283185307179586 * u2);
      sum += z * z;
    }
    s2.push_back(0.0004 * sum / 4);  // every row's true variance 0.0004
    df.push_back(4);
  }
  auto p = fit_variance_prior(s2, df);
  EXPECT_NEAR(p.s2, 0.0004, 0.00004);
  EXPECT_GT(p.df, 20);  // equal true variances: a strong prior
  EXPECT_NEAR(moderated_variance({0.001, 4}, 0.003, 4), 0.002, 1e-12);
  EXPECT_EQ(fit_variance_prior({1, 2}, {3, 3}).df, 0);  // too few rows: none
}

// CI's lab_boots_aa (A/A, 3 v 3 boots, 86 rows): one candidate boot read an
// IPI mean 2.6x the other five; its variance shrunk to the other rows'
// flagged it (+37 %, p = 0.029). A row far past its prior keeps its own
// variance, and the report says how many did. A real shift in the same
// report is still found.
TEST(Verdicts, OutlierBootRowKeepsItsOwnVariance) {
  using namespace kperflab::compare;
  constexpr size_t kRows = 60, kBoots = 3, kReps = 4;
  std::vector<Series> base(kRows), cand(kRows);
  uint64_t x = 777;  // the outlier is found at every one of seeds 1..200
  auto gauss = [&x] {
    auto u = [&x] {
      x = x * 6364136223846793005ULL + 1442695040888963407ULL;
      return ((x >> 11) + 0.5) / 9007199254740992.0;
    };
    double u1 = u(), u2 = u();
    return std::sqrt(-2 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  };
  for (size_t i = 0; i < kRows; ++i)
    for (int side = 0; side < 2; ++side)
      for (size_t b = 0; b < kBoots; ++b) {
        double sd = 0.008 + 0.008 * static_cast<double>(i % 7) / 6;  // rows differ in spread
        double level = std::log(2600.0 + 10.0 * static_cast<double>(i)) + sd * gauss();
        if (side && i == 0 && b == 2) level += std::log(2.6);  // the outlier boot
        if (side && i == 1) level += std::log(1.25);           // a real +25 %
        for (size_t r = 0; r < kReps; ++r) {
          auto& s = side ? cand[i] : base[i];
          s.v.push_back(std::exp(level + 0.003 * gauss()));
          s.boot.push_back(b);
          s.run.push_back(b);
        }
      }
  Result res;
  res.basis = Basis::boots;
  std::vector<RowInput> in;
  for (size_t i = 0; i < kRows; ++i)
    kperflab::testing::add_boots_row(res, in, base[i], cand[i], "ipi", "m" + std::to_string(i),
                                     "mean", false);
  Units u;
  u.base = {"b0", "b1", "b2"};
  u.cand = {"c0", "c1", "c2"};
  Options o;
  o.threads = 1;
  test_rows(res, in, u, o);
  const Row& outlier = res.rows[0];
  EXPECT_FALSE(flagged(outlier)) << "p_adj " << outlier.p_adj << " change " << outlier.change;
  EXPECT_EQ(outlier.prior_df, 0) << "the outlier row borrowed the others' variance";
  EXPECT_GT(outlier.p, 0.05);
  EXPECT_EQ(res.rows[1].verdict, Verdict::regression) << "p_adj " << res.rows[1].p_adj;
  EXPECT_GT(res.rows[1].prior_df, 0) << "the ordinary rows keep the prior";
  EXPECT_TRUE(warned(res, "1 rows vary between units far more"));
  // The 58 unchanged rows are not checked: with one true flag in the
  // report, Benjamini-Hochberg lets a null row through at 2 alpha / m, and
  // about 9 % of seeds flag one (sim_verdicts measures the size properly).
  // F tail: P(F(4, 10) > 3.478) = 0.05; P(F(4, inf) > 2.372) = 0.05.
  EXPECT_NEAR(kperflab::stats::f_sf(3.478, 4, 10), 0.05, 1e-3);
  EXPECT_NEAR(kperflab::stats::f_sf(2.372, 4, INFINITY), 0.05, 1e-3);
}

// #28: a metric whose sides say they measured different things (label
// comparable_with: mmap_lock's holds on kernels that format the memcg path
// inside the hold, and on those that do not) is shown, never decided, even
// when it moved far; the report says why.
TEST(Verdicts, NotComparableRowsAreNotDecided) {
  Tmp t;
  SynthSpec s;
  s.metrics = 4;
  s.repetitions = 4;
  s.boot_noise = 0.01;
  s.latency_labels = {{"comparable_with", "tracepoints=memcg_path"}};
  boots(t.p / "a", "a", 3, s, 1);
  s.scale = 2.0;  // twice as slow: flagged if it were decided
  s.latency_labels = {{"comparable_with", "tracepoints=memcg_id"}};
  boots(t.p / "b", "b", 3, s, 20);
  auto r = run(t.p / "a", t.p / "b");
  const Row* x = find(r, "op0/latency", "p50");
  ASSERT_NE(x, nullptr);
  EXPECT_EQ(x->verdict, Verdict::undecided);
  EXPECT_EQ(x->note, "not comparable: tracepoints=memcg_path vs tracepoints=memcg_id");
  EXPECT_TRUE(warned(r, "measured different things on each side"));
  EXPECT_EQ(r.regressions(), 0u);
  // The rates carry no such label: still decided (not moved here).
  const Row* rate = find(r, "op0/rate", "value");
  ASSERT_NE(rate, nullptr);
  EXPECT_TRUE(rate->note.empty());
  kperflab::compare::Side a = Side::load(t.p / "a"), b = Side::load(t.p / "b");
  kperflab::report::Input in{&a, {&b}, {r}, false, 0.05};
  std::string text = kperflab::report::text(in);
  EXPECT_NE(text.find("not comparable: tracepoints=memcg_path"), std::string::npos) << text;
}

// #25.9: a histogram that overflowed has floors for tails: its rows say so.
TEST(Verdicts, OverflowIsMarked) {
  Tmp t;
  SynthSpec s;
  s.metrics = 2;
  s.repetitions = 3;
  s.boot_noise = 0.01;
  boots(t.p / "a", "a", 3, s, 1);
  s.overflow_samples = 30;
  boots(t.p / "b", "b", 3, s, 10);
  auto r = run(t.p / "a", t.p / "b");
  const Row* tail = find(r, "op0/latency", "p99");
  const Row* mid = find(r, "op0/latency", "p50");
  ASSERT_NE(tail, nullptr);
  ASSERT_NE(mid, nullptr);
  EXPECT_TRUE(tail->overflow);
  EXPECT_FALSE(mid->overflow);
  kperflab::compare::Side a = Side::load(t.p / "a"), b = Side::load(t.p / "b");
  kperflab::report::Input in{&a, {&b}, {r}, true, 0.05};
  EXPECT_NE(kperflab::report::text(in).find("OVERFLOW"), std::string::npos);
}
