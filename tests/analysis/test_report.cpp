// SPDX-License-Identifier: GPL-2.0-only
// Report rendering (issue #13 item 7): units in plots, one colour scale for
// both sides' heatmaps over every repetition, the CI at its real level,
// <= 80 columns in text, word diffs of long provenance values, the machine
// named, n / spread / basis / merged aliases per row, provenance over every
// bundle, measured values apart from provenance.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <regex>
#include <sstream>

#include "analysis/compare.h"
#include "analysis/html_parts.h"
#include "analysis/report.h"
#include "golden.h"
#include "plots.h"
#include "synth.h"
#include "tests/common/tmpdir.h"

namespace fs = std::filesystem;
using kperflab::compare::Basis;
using kperflab::compare::ProvDiff;
using kperflab::compare::Result;
using kperflab::compare::Side;
using kperflab::compare::Verdict;
using kperflab::testing::SynthSpec;
using kperflab::testing::write_synth_bundle;
namespace report = kperflab::report;

namespace {

struct Tmp : kperflab::testing::TmpDir {
  const fs::path& p = path;
};

SynthSpec small() {
  SynthSpec s;
  s.metrics = 2;
  s.repetitions = 3;
  s.samples = 300;
  return s;
}

// Every format of one comparison.
struct Rendered {
  std::string text, md, term, html;
};

Rendered render(const Side& a, const Side& b, const Result& r, double alpha = 0.05,
                bool all = true) {
  report::Input in{&a, {&b}, {r}, all, alpha};
  return {report::text(in), report::markdown(in), report::terminal(in), report::html(in)};
}

void expect_text_fits(const std::string& text, const std::string& what) {
  std::istringstream in(text);
  std::string line;
  unsigned n = 0;
  while (std::getline(in, line)) {
    ++n;
    EXPECT_LE(line.size(), 80u) << what << " line " << n << ": " << line;
    for (unsigned char c : line) EXPECT_LT(c, 128) << what << " non-ASCII line " << n;
  }
}

size_t count(const std::string& s, const std::string& what) {
  size_t n = 0;
  for (auto at = s.find(what); at != std::string::npos; at = s.find(what, at + 1)) ++n;
  return n;
}

}  // namespace

TEST(Report, FmtValueScalesEveryTimeUnit) {
  EXPECT_EQ(report::fmt_value(374800, "ps"), "374.8ns");
  EXPECT_EQ(report::fmt_value(374.8, "ns"), "374.8ns");
  EXPECT_EQ(report::fmt_value(3.5, "us"), "3.5us");
  EXPECT_EQ(report::fmt_value(2500, "us"), "2.5ms");
  EXPECT_EQ(report::fmt_value(1.5, "s"), "1.5s");
  EXPECT_EQ(report::fmt_value(42, "cycles"), "42");
  EXPECT_EQ(report::ci_label(0.05), "95% CI");
  EXPECT_EQ(report::ci_label(0.01), "99% CI");
  EXPECT_EQ(report::ci_label(0.001), "99.9% CI");
}

// Every golden text report of compare (compare*.txt) fits a mail: <= 80
// columns, ASCII.
TEST(Report, EveryGoldenTextReportFits80Columns) {
  unsigned files = 0;
  for (auto& e : fs::directory_iterator(KPERFLAB_GOLDEN)) {
    std::string name = e.path().filename().string();
    if (name.rfind("compare", 0) != 0 || e.path().extension() != ".txt") continue;
    std::ifstream f(e.path());
    std::stringstream ss;
    ss << f.rdbuf();
    expect_text_fits(ss.str(), e.path().filename().string());
    ++files;
  }
  EXPECT_GE(files, 2u) << "compare.txt and compare-sides.txt expected in " << KPERFLAB_GOLDEN;
}

// Big counts (the 81-column summary of a 605-row report), long metric names
// and aliases, n and spread on every row: still <= 80 columns.
TEST(Report, TextFits80ColumnsWithBigCountsAndLongNames) {
  Tmp t;
  Side a = Side::load(write_synth_bundle(t.p / "a", small()));
  Side b = Side::load(write_synth_bundle(t.p / "b", small()));
  Result r = kperflab::compare::compare(a, b, {});
  auto proto = r.rows.front();
  r.rows.clear();
  for (int i = 0; i < 605; ++i) {
    auto x = proto;
    x.verdict = i < 124 ? Verdict::regression : i < 136 ? Verdict::improvement : Verdict::undecided;
    x.metric = "private_expedited_sync_core/targets=" + std::to_string(i) +
               "/state=spin/delivery/llc=remote/latency";
    x.aliases = {"p99", "p99_9", "private_expedited_sync_core/targets=1/state=spin/delivery"};
    x.base_n = x.cand_n = 10000;
    x.base_spread = 1.234, x.cand_spread = 0.5;
    x.basis = Basis::noise;
    r.rows.push_back(x);
  }
  r.base_reps = r.cand_reps = 1000;
  r.provenance.push_back({"kernel.cmdline", std::string(200, 'x'), "y"});
  auto out = render(a, b, r);
  expect_text_fits(out.text, "text");
  EXPECT_NE(out.text.find("605 comparisons, 124 regressions, 12 improvements"), std::string::npos);
}

// The CI is labelled with its level, 1 - alpha, in every format.
TEST(Report, CiLabelFollowsAlpha) {
  Tmp t;
  Side a = Side::load(write_synth_bundle(t.p / "a", small()));
  Side b = Side::load(write_synth_bundle(t.p / "b", small()));
  kperflab::compare::Options o;
  o.alpha = 0.01;
  auto out = render(a, b, kperflab::compare::compare(a, b, o), o.alpha);
  for (auto* s : {&out.text, &out.md, &out.term, &out.html}) {
    EXPECT_NE(s->find("99% CI"), std::string::npos) << *s;
    EXPECT_EQ(s->find("95% CI"), std::string::npos) << *s;
  }
}

// A cmdline differing in one word shows that word, in every format.
TEST(Report, LongProvenanceValuesShowTheWordsThatDiffer) {
  Tmp t;
  std::string common = "BOOT_IMAGE=/boot/vmlinuz-6.12 root=UUID=0123-4567 ro quiet ";
  SynthSpec sa = small(), sb = small();
  sa.meta_patch = {{"kernel", {{"cmdline", common + "mitigations=off isolcpus=2-15"}}}};
  sb.meta_patch = {{"kernel", {{"cmdline", common + "isolcpus=2-15 nohz_full=2-15"}}}};
  Side a = Side::load(write_synth_bundle(t.p / "a", sa));
  Side b = Side::load(write_synth_bundle(t.p / "b", sb));
  Result r = kperflab::compare::compare(a, b, {});
  ASSERT_EQ(r.provenance.size(), 1u);
  EXPECT_TRUE(r.provenance[0].words);
  EXPECT_EQ(r.provenance[0].base, "mitigations=off");
  EXPECT_EQ(r.provenance[0].cand, "nohz_full=2-15");
  auto out = render(a, b, r);
  EXPECT_NE(out.text.find("kernel.cmdline: -mitigations=off +nohz_full=2-15"), std::string::npos)
      << out.text;
  EXPECT_NE(out.term.find("-mitigations=off +nohz_full=2-15"), std::string::npos);
  EXPECT_NE(out.md.find("`-mitigations=off` | `+nohz_full=2-15`"), std::string::npos) << out.md;
  EXPECT_NE(out.html.find("<code>-mitigations=off</code></td><td><code>+nohz_full=2-15"),
            std::string::npos);
  for (auto* s : {&out.text, &out.md, &out.term, &out.html})
    EXPECT_EQ(s->find("BOOT_IMAGE"), std::string::npos) << "common words printed";
}

// The longest value a bundle holds (4 KiB: 2000 one-letter words) is still
// diffed word by word.
TEST(Report, LongestValuesAreWordDiffed) {
  Tmp t;
  std::string many;
  for (int i = 0; i < 2000; ++i) many += "a ";
  SynthSpec sa = small(), sb = small();
  sa.params_patch = {{"note", many + "x"}};
  sb.params_patch = {{"note", "y " + many}};
  Side a = Side::load(write_synth_bundle(t.p / "a", sa));
  Side b = Side::load(write_synth_bundle(t.p / "b", sb));
  Result r = kperflab::compare::compare(a, b, {});
  ASSERT_EQ(r.provenance.size(), 1u);
  EXPECT_TRUE(r.provenance[0].words);
  EXPECT_EQ(report::fmt_diff(r.provenance[0]), "-x +y");
  expect_text_fits(render(a, b, r).text, "text");
}

// The machine is named even when both sides agree on it.
TEST(Report, HeaderNamesTheMachine) {
  Tmp t;
  SynthSpec s = small();
  s.meta_patch = {{"cpu", {{"online_count", 16}}}};
  Side a = Side::load(write_synth_bundle(t.p / "a", s));
  Side b = Side::load(write_synth_bundle(t.p / "b", s));
  Result r = kperflab::compare::compare(a, b, {});
  EXPECT_TRUE(r.provenance.empty());
  auto out = render(a, b, r);
  for (auto* x : {&out.text, &out.md, &out.term, &out.html})
    EXPECT_NE(x->find("synth-host, Synthetic CPU, 16 CPUs"), std::string::npos) << *x;
  EXPECT_EQ(report::machine(a), "synth-host, Synthetic CPU, 16 CPUs");
}

// n, spread, basis and merged aliases of a row, and the report's basis and
// boots, in every format.
TEST(Report, RowsShowNSpreadBasisAndAliases) {
  Tmp t;
  Side a = Side::load(write_synth_bundle(t.p / "a", small()));
  Side b = Side::load(write_synth_bundle(t.p / "b", small()));
  Result r = kperflab::compare::compare(a, b, {});
  r.basis = Basis::boots;
  r.base_boots = 3, r.cand_boots = 4;
  for (auto& x : r.rows) {
    x.basis = Basis::boots;
    x.base_n = 3, x.cand_n = 4;
    x.base_spread = 0.031, x.cand_spread = NAN;
  }
  r.rows[0].aliases = {"op0/latency:p99_9", "max"};
  auto out = render(a, b, r);
  for (auto* s : {&out.text, &out.md, &out.term, &out.html}) {
    EXPECT_NE(s->find("3 vs 4 (boots)"), std::string::npos) << *s;
    EXPECT_NE(s->find("3.1% vs n/a"), std::string::npos) << *s;
    EXPECT_NE(s->find("merged: op0/latency:p99_9, max"), std::string::npos) << *s;
    EXPECT_NE(s->find("3 boots"), std::string::npos) << *s;
    EXPECT_NE(s->find("one value per boot"), std::string::npos) << *s;
  }
  expect_text_fits(out.text, "text");
}

// Every bundle of a side is compared: a side whose bundles disagree says so.
TEST(Report, ProvenanceComparesEveryBundle) {
  Tmp t;
  SynthSpec s = small();
  write_synth_bundle(t.p / "base" / "b0", s);
  SynthSpec s1 = s;
  s1.seed = 2;
  s1.meta_patch = {{"cpu", {{"frequency", {{"governor", "powersave"}}}}}};
  write_synth_bundle(t.p / "base" / "b1", s1);
  s.seed = 3;
  Side a = Side::load(t.p / "base");
  Side b = Side::load(write_synth_bundle(t.p / "cand", s));
  Result r = kperflab::compare::compare(a, b, {});
  ASSERT_EQ(r.provenance.size(), 1u);
  EXPECT_EQ(r.provenance[0].field, "cpu.frequency.governor");
  EXPECT_EQ(r.provenance[0].base, "2 values: n/a | powersave");
  EXPECT_EQ(r.provenance[0].cand, "n/a");
  // The first bundles agree: only the second one differs.
  auto out = render(a, b, r);
  EXPECT_NE(out.text.find("cpu.frequency.governor: 2 values: n/a | powersave -> n/a"),
            std::string::npos)
      << out.text;
}

// Issue #17: the preflight's settings and what --tune changed are provenance;
// the load (measured anew by every run) is not.
TEST(Report, PreflightAndTuningDifferencesAreProvenance) {
  Tmp t;
  SynthSpec s = small();
  auto finding = [](const char* what, const char* value) {
    return nlohmann::json{{"what", what}, {"value", value}, {"severity", "info"},
                          {"why", "x"}, {"probes", nlohmann::json::array()}};
  };
  s.meta_patch = {{"preflight", {{"findings", {finding("smt", "on"), finding("load", "0.10")}}}}};
  Side a = Side::load(write_synth_bundle(t.p / "a", s));
  s.seed = 2;
  s.meta_patch = {
      {"preflight", {{"findings", {finding("smt", "off"), finding("load", "1.90")}}}},
      {"tuning",
       {{"boost_off", false},
        {"settings", {{{"setting", "kernel.numa_balancing"}, {"path", "/proc/sys/kernel/numa_balancing"},
                       {"from", "1"}, {"to", "0"}, {"status", "tuned"}}}}}}};
  Side b = Side::load(write_synth_bundle(t.p / "b", s));
  Result r = kperflab::compare::compare(a, b, {});
  std::map<std::string, std::pair<std::string, std::string>> d;
  for (auto& p : r.provenance) d[p.field] = {p.base, p.cand};
  ASSERT_TRUE(d.count("preflight.smt"));
  EXPECT_EQ(d["preflight.smt"], std::make_pair(std::string("on"), std::string("off")));
  ASSERT_TRUE(d.count("tuning"));
  EXPECT_EQ(d["tuning"], std::make_pair(std::string("none"), std::string("--tune")));
  EXPECT_FALSE(d.count("preflight.load"));
}

// Probe parameters are compared over every bundle too, objects leaf by leaf.
TEST(Report, ParametersOfEveryBundleLeafByLeaf) {
  Tmp t;
  SynthSpec s = small();
  s.params_patch = {{"delivery", {{"mode", "fentry"}, {"handlers", 2}}}};
  write_synth_bundle(t.p / "cand" / "c0", s);
  SynthSpec s1 = s;
  s1.seed = 5;
  s1.params_patch = {{"delivery", {{"mode", "kprobe"}, {"handlers", 2}}}};
  write_synth_bundle(t.p / "cand" / "c1", s1);
  Side a = Side::load(write_synth_bundle(t.p / "base", small()));
  Side b = Side::load(t.p / "cand");
  Result r = kperflab::compare::compare(a, b, {});
  std::map<std::string, ProvDiff> by;
  for (auto& d : r.provenance) by[d.field] = d;
  ASSERT_TRUE(by.count("synth.delivery.mode"));
  EXPECT_EQ(by["synth.delivery.mode"].base, "(none)");
  EXPECT_EQ(by["synth.delivery.mode"].cand, "2 values: fentry | kprobe");
  EXPECT_EQ(by["synth.delivery.handlers"].cand, "2");
}

// A calibrated clock (2.59616 vs 2.59613 GHz) is the same clock; past 1 %
// it shows on a separate "measured" line, not as what differs.
TEST(Report, MeasuredValuesWithinToleranceAreNotDifferences) {
  Tmp t;
  SynthSpec sa = small(), sb = small(), sc = small();
  sa.params_patch = {{"clock", {{"source", "tsc"}, {"ghz", 2.59616}, {"ns_per_tick", 0.385184}}}};
  sb.params_patch = {{"clock", {{"source", "tsc"}, {"ghz", 2.59613}, {"ns_per_tick", 0.385189}}}};
  sc.params_patch = {{"clock", {{"source", "tsc"}, {"ghz", 2.7}, {"ns_per_tick", 0.385189}}}};
  Side a = Side::load(write_synth_bundle(t.p / "a", sa));
  Side b = Side::load(write_synth_bundle(t.p / "b", sb));
  Side c = Side::load(write_synth_bundle(t.p / "c", sc));
  Result same = kperflab::compare::compare(a, b, {});
  EXPECT_TRUE(same.provenance.empty()) << same.provenance[0].field;
  auto out = render(a, b, same);
  EXPECT_EQ(out.text.find("Measured"), std::string::npos);
  EXPECT_NE(out.text.find("nothing recorded in the provenance"), std::string::npos);
  Result apart = kperflab::compare::compare(a, c, {});
  ASSERT_EQ(apart.provenance.size(), 1u);
  EXPECT_TRUE(apart.provenance[0].measured);
  EXPECT_EQ(apart.provenance[0].field, "synth.clock.ghz");
  out = render(a, c, apart);
  EXPECT_NE(out.text.find("nothing recorded in the provenance\n"
                          "Measured values (more than 1% apart):\n"
                          "  synth.clock.ghz: 2.59616 -> 2.7"),
            std::string::npos)
      << out.text;
  EXPECT_NE(out.md.find("**Measured**"), std::string::npos);
  EXPECT_NE(out.html.find("<b>Measured</b>"), std::string::npos);
  EXPECT_NE(out.term.find("measured synth.clock.ghz"), std::string::npos);
}

// Sweep plots of a ps metric: 374.8 ns reads 374.8ns, never 374.8us; the
// axis titles name other units.
TEST(Report, SweepPlotsKeepTheMetricUnit) {
  Tmp t;
  Side a = Side::load(write_synth_bundle(t.p / "a", small()));
  Side b = Side::load(write_synth_bundle(t.p / "b", small()));
  Result r = kperflab::compare::compare(a, b, {});
  auto proto = r.rows.front();
  r.rows.clear();
  for (int n : {1, 2, 4}) {
    auto x = proto;
    x.probe = "cpumask", x.stat = "p50", x.unit = "ps";
    x.metric = "create_release/threads=" + std::to_string(n);
    x.base_median = 374800, x.cand_median = 374800 - n * 1000;
    r.rows.push_back(x);
    x.probe = "ipi", x.unit = "1/s";
    x.metric = "rate/targets=" + std::to_string(n);
    x.base_median = 1e6, x.cand_median = 2e6;
    r.rows.push_back(x);
  }
  auto html = render(a, b, r).html;
  EXPECT_NE(html.find(">374.8ns<"), std::string::npos) << html;
  EXPECT_EQ(html.find("374.8us"), std::string::npos);
  EXPECT_NE(html.find(">p50 (1/s)<"), std::string::npos);
  // Each sweep's axis is named by its own parameter, never "CPUs".
  EXPECT_NE(html.find("class='xlabel'") , std::string::npos);
  EXPECT_NE(html.find(">threads</text>"), std::string::npos) << html;
  EXPECT_NE(html.find(">targets</text>"), std::string::npos) << html;
  EXPECT_EQ(html.find(">CPUs<"), std::string::npos);
}

using namespace kperflab::testing::plots;

TEST(Report, TicksAreRound) {
  auto t = report::linear_ticks(0.209, 0.9641);
  for (double v : t.at) EXPECT_LE(sig_digits(std::to_string(v).substr(0, 8)), 2) << v;
  EXPECT_LE(t.lo, 0.209);
  EXPECT_GE(t.hi, 0.9641);
  auto c = report::linear_ticks(1, 4, 5, true);  // CPU counts: 1, 2, 3, 4 or 0, 2, 4
  for (double v : c.at) EXPECT_EQ(v, std::round(v)) << v;
  auto l = report::log_ticks(0.209, 950);
  for (double v : l.at) EXPECT_TRUE(one_two_five(v)) << v;
  EXPECT_GE(l.at.size(), 3u);
  auto narrow = report::log_ticks(372, 391);  // less than a 1-2-5 step: linear inside
  EXPECT_GE(narrow.at.size(), 2u);
  for (double v : narrow.at) EXPECT_TRUE(v >= 372 && v <= 391) << v;
}

// Chromium showed, on an A/A compare of two bundles: "CPUs" under a
// threads=* sweep, ticks 1, 1.25, 1.5 for CPU counts, 0.4489ns, and the
// legend on the curves. Every plot: its axis titles, round ticks (integers
// for counts), the legend right of the plot area.
TEST(Report, PlotsHaveRoundTicksNamedAxesAndTheLegendOutside) {
  Tmp t;
  Side a = Side::load(write_synth_bundle(t.p / "a", small()));
  Side b = Side::load(write_synth_bundle(t.p / "b", small()));
  Result r = kperflab::compare::compare(a, b, {});
  auto proto = r.rows.front();
  for (int n : {1, 2, 3}) {
    auto x = proto;
    x.probe = "cpumask", x.stat = "p50", x.unit = "ps";
    x.metric = "create_release/threads=" + std::to_string(n);
    x.base_median = 209 + n * 123.7, x.cand_median = 448.9 + n * 251.3;
    r.rows.push_back(x);
    x.probe = "membarrier", x.unit = "ns";
    x.metric = "private_expedited/callers=" + std::to_string(n) + "/latency";
    r.rows.push_back(x);
  }
  auto html = render(a, b, r).html;
  auto ps = plots(html);
  ASSERT_GE(ps.size(), 3u) << html;
  bool sweep_threads = false, sweep_callers = false, cdf = false;
  for (auto& p : ps) {
    std::string what = "plot " + p.xl + " / " + p.yl;
    EXPECT_FALSE(p.xl.empty()) << what;
    EXPECT_FALSE(p.yl.empty()) << what;
    EXPECT_NE(p.xl, "CPUs") << what;
    expect_legend_outside(p, what);
    expect_round_ticks(p.yt, false, what + " y");
    if (p.xl == "threads" || p.xl == "callers") {
      (p.xl == "threads" ? sweep_threads : sweep_callers) = true;
      for (auto& x : p.xt) EXPECT_EQ(x.find('.'), std::string::npos) << what << ": count " << x;
      expect_round_ticks(p.xt, false, what + " x");
    } else {
      cdf = true;
      expect_round_ticks(p.xt, true, what + " x (log)");
    }
  }
  EXPECT_TRUE(sweep_threads && sweep_callers && cdf);
  // The findings and the rows come before any plot.
  EXPECT_LT(html.find("<h2>Findings</h2>"), html.find("<svg"));
  EXPECT_LT(html.find("<h2>Rows</h2>"), html.find("<svg"));
}

// Without --all: the 30 flagged rows of largest change, regressions first
// (the others counted by probe), the geometric means, and the 20 largest
// undecided; --top-flagged lists more; with --all every row.
TEST(Report, DefaultListsTheLargestFlaggedAndUndecidedRows) {
  Tmp t;
  Side a = Side::load(write_synth_bundle(t.p / "a", small()));
  Side b = Side::load(write_synth_bundle(t.p / "b", small()));
  Result r = kperflab::compare::compare(a, b, {});
  auto proto = r.rows.front();
  proto.note.clear();
  r.rows.clear();
  for (int i = 0; i < 600; ++i) {
    auto x = proto;
    x.metric = "m" + std::to_string(i) + "x";  // "m5x" is in no other name
    x.verdict = i < 130 ? Verdict::regression : i < 150 ? Verdict::improvement
              : i < 450 ? Verdict::undecided : Verdict::unchanged;
    x.change = 0.001 * (i + 1);
    if (x.verdict == Verdict::undecided) x.note = "one unit a side: not decided";
    r.rows.push_back(x);
  }
  auto gm = proto;
  gm.metric = "geomean", gm.stat = "gm", gm.summary = true, gm.verdict = Verdict::unchanged;
  r.rows.push_back(gm);
  report::Input in{&a, {&b}, {r}, false, 0.05};
  for (auto* f : {&report::text, &report::markdown, &report::terminal, &report::html}) {
    std::string out = (*f)(in);
    for (int i = 0; i < 150; ++i)  // regressions m129 .. m100
      EXPECT_EQ(out.find("m" + std::to_string(i) + "x") != std::string::npos, i >= 100 && i < 130)
          << "flagged m" << i;
    EXPECT_NE(out.find("120 more flagged rows, smaller changes (" + proto.probe + " 120)"),
              std::string::npos);
    // The largest undecided (m449 .. m430) are listed, the smaller not.
    EXPECT_NE(out.find("m449x"), std::string::npos);
    EXPECT_NE(out.find("m430x"), std::string::npos);
    EXPECT_EQ(out.find("m429x"), std::string::npos);
    EXPECT_EQ(out.find("m450x"), std::string::npos);  // unchanged
    EXPECT_NE(out.find("geomean"), std::string::npos);
    EXPECT_NE(out.find("280 more undecided rows"), std::string::npos);
  }
  std::string text = report::text(in);
  EXPECT_EQ(count(text, "\nundecided "), 20u);
  EXPECT_EQ(count(text, "one unit a side: not decided"), 1u) << "a note said per row";
  EXPECT_EQ(count(text, "; note 1"), 20u);
  expect_text_fits(text, "text");
  in.all_rows = true;
  text = report::text(in);
  for (int i = 0; i < 600; ++i)
    EXPECT_NE(text.find("m" + std::to_string(i) + "x"), std::string::npos) << "--all: m" << i;
  EXPECT_EQ(text.find("more undecided"), std::string::npos);
  in.all_rows = false, in.top = 0;
  EXPECT_NE(report::text(in).find("300 more undecided rows"), std::string::npos);
  in.top_flagged = 150;
  text = report::text(in);
  for (int i = 0; i < 150; ++i)
    EXPECT_NE(text.find("m" + std::to_string(i) + "x"), std::string::npos) << "flagged m" << i;
  EXPECT_EQ(text.find("more flagged"), std::string::npos);
}

// Heatmaps: the per-cell median over every repetition of a side, both sides
// on one colour scale, with its legend.
TEST(Report, HeatmapsShareOneScaleOverEveryRepetition) {
  Tmp t;
  SynthSpec sa = small(), sb = small();
  sa.matrix = 1000;  // cell (0,1): 1000, 2000, 3000 over 3 repetitions
  sb.matrix = 2000;
  Side a = Side::load(write_synth_bundle(t.p / "a", sa));
  Side b = Side::load(write_synth_bundle(t.p / "b", sb));
  auto html = render(a, b, kperflab::compare::compare(a, b, {})).html;
  EXPECT_EQ(count(html, "median of 3 matrices"), 2u) << html;
  EXPECT_NE(html.find("0 -&gt; 1: 2us"), std::string::npos);  // base median of 1, 2, 3 us
  EXPECT_NE(html.find("0 -&gt; 1: 4us"), std::string::npos);  // candidate
  EXPECT_EQ(count(html, "colour scale (both sides)"), 1u);
  // One scale: base 1us is the lowest colour, candidate 2us is not.
  std::smatch m;
  auto fill = [&](const std::string& cell) {
    std::regex re("fill='(#[0-9a-f]{6})'><title>" + cell + "</title>");
    EXPECT_TRUE(std::regex_search(html, m, re)) << cell;
    return m[1].str();
  };
  std::string base_lo = fill("1 -&gt; 0: 1us"), cand_lo = fill("1 -&gt; 0: 2us");
  EXPECT_NE(base_lo, cand_lo) << "1000 ns and 2000 ns drawn the same colour";
  EXPECT_EQ(base_lo, "#00b4ff");  // the bottom of the shared scale
  EXPECT_EQ(fill("0 -&gt; 1: 4us"), "#ff5000");  // its top
  EXPECT_NE(html.find("not measured"), std::string::npos);  // the null cell
}

namespace {

using kperflab::testing::golden;

}  // namespace

// Golden outputs of everything item 7 renders: a side of two bundles that
// disagree, a cmdline word diff, a measured clock past its tolerance,
// heatmaps, and rows with n, spread, basis and merged aliases (set here:
// the decision rule fills them).
TEST(Report, GoldenSides) {
  Tmp t;
  std::string cmdline = "BOOT_IMAGE=/boot/vmlinuz-6.12.0 root=UUID=0123-4567 ro quiet";
  SynthSpec s = small();
  s.metrics = 2;
  s.matrix = 1000;
  s.meta_patch = {{"kernel", {{"cmdline", cmdline + " mitigations=off"}}},
                  {"cpu", {{"online_count", 16}}}};
  s.params_patch = {{"clock", {{"source", "tsc"}, {"ghz", 2.59616}}}};
  write_synth_bundle(t.p / "base" / "b0", s);
  s.seed = 2;
  s.params_patch = {{"clock", {{"source", "tsc"}, {"ghz", 2.59613}}}};
  s.meta_patch["cpu"]["frequency"] = {{"governor", "powersave"}};
  write_synth_bundle(t.p / "base" / "b1", s);
  s.seed = 3;
  s.scale = 1.2;
  s.matrix = 2000;
  s.release = "6.12.0-synth-cand";
  s.meta_patch["kernel"]["cmdline"] = cmdline + " nohz_full=2-15";
  s.params_patch = {{"clock", {{"source", "tsc"}, {"ghz", 2.7}}}};
  Side a = Side::load(t.p / "base");
  Side b = Side::load(write_synth_bundle(t.p / "cand", s));
  kperflab::compare::Options o;
  o.alpha = 0.1;
  Result r = kperflab::compare::compare(a, b, o);
  r.basis = Basis::boots;
  r.base_boots = 2, r.cand_boots = 1;
  for (auto& x : r.rows) {
    x.basis = Basis::confounded;
    x.base_n = x.base.size(), x.cand_n = x.cand.size();
    x.base_spread = 0.021, x.cand_spread = 0.034;
    if (x.stat == "p99") x.aliases = {"p99_9"};
  }
  // A sweep in ps (the HTML plots it in ns), unchanged, so in no table.
  for (int n : {1, 2, 4, 8}) {
    auto x = r.rows.front();
    x.probe = "cpumask", x.stat = "p50", x.unit = "ps", x.verdict = Verdict::unchanged;
    x.metric = "create_release/threads=" + std::to_string(n);
    x.base_median = 374800 + n * 2000, x.cand_median = 374800 + n * 9000;
    r.rows.push_back(x);
  }
  report::Input in{&a, {&b}, {r}, false, o.alpha};
  golden("compare-sides.txt", report::text(in));
  golden("compare-sides.md", report::markdown(in));
  golden("compare-sides.term", report::terminal(in));
  golden("compare-sides.html", report::html(in));
  expect_text_fits(report::text(in), "compare-sides.txt");
}
