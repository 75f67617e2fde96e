// SPDX-License-Identifier: GPL-2.0-only
// The compare engine on synthetic bundles: a known 10% shift is flagged,
// A/A flags nothing, bad inputs are refused clearly, outputs match goldens.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "analysis/compare.h"
#include "analysis/export.h"
#include "analysis/report.h"
#include "synth.h"
#include "tests/common/tmpdir.h"

namespace fs = std::filesystem;
using kperflab::compare::Side;
using kperflab::compare::Verdict;
using kperflab::testing::SynthSpec;
using kperflab::testing::write_synth_bundle;

namespace {

// The tests name the directory t.p.
struct Tmp : kperflab::testing::TmpDir {
  const fs::path& p = path;
};

kperflab::compare::Result run(const fs::path& a, const fs::path& b,
                              kperflab::compare::Options o = {}) {
  return kperflab::compare::compare(Side::load(a), Side::load(b), o);
}

void golden(const std::string& name, const std::string& got) {
  fs::path f = fs::path(KPERFLAB_GOLDEN) / name;
  if (std::getenv("KPERFLAB_UPDATE_GOLDEN")) {
    std::ofstream(f) << got;
    return;
  }
  std::ifstream in(f);
  ASSERT_TRUE(in) << "golden file missing: " << f << " (KPERFLAB_UPDATE_GOLDEN=1 makes it)";
  std::stringstream ss;
  ss << in.rdbuf();
  EXPECT_EQ(ss.str(), got) << "output differs from " << f;
}

}  // namespace

TEST(Compare, KnownTenPercentShiftIsFlagged) {
  Tmp t;
  SynthSpec base;
  SynthSpec cand = base;
  cand.seed = 2;
  cand.scale = 1.10;
  auto r = run(write_synth_bundle(t.p / "a", base), write_synth_bundle(t.p / "b", cand));
  unsigned flagged = 0;
  for (auto& row : r.rows) {
    if (row.metric.find("/latency") == std::string::npos || row.stat != "p50") continue;
    EXPECT_EQ(row.verdict, Verdict::regression) << row.metric << " change " << row.change;
    EXPECT_NEAR(row.change, 0.10, 0.02) << row.metric;
    EXPECT_LT(row.ci_lo, 0.12);  // around the true 10% (p50s are bucket-quantized)
    EXPECT_GT(row.ci_hi, 0.08);
    EXPECT_GT(row.ci_lo, 0.0);
    ++flagged;
  }
  EXPECT_EQ(flagged, base.metrics);
  // The rates did not move: nothing there.
  for (auto& row : r.rows) {
    if (row.metric.find("/rate") != std::string::npos) {
      EXPECT_EQ(row.verdict, Verdict::unchanged) << row.metric;
    }
  }
}

TEST(Compare, AADifferentSeedsFlagsNothingAcross100Metrics) {
  Tmp t;
  SynthSpec base;
  base.metrics = 100;
  base.samples = 1000;
  SynthSpec cand = base;
  cand.seed = 99;
  auto r = run(write_synth_bundle(t.p / "a", base), write_synth_bundle(t.p / "b", cand));
  EXPECT_GE(r.rows.size(), 100u * 5);
  EXPECT_EQ(r.regressions(), 0u);
  EXPECT_EQ(r.improvements(), 0u);
  for (auto& row : r.rows) EXPECT_NE(row.verdict, Verdict::change) << row.metric;
}

TEST(Compare, TooFewRepetitionsWarns) {
  Tmp t;
  SynthSpec base;
  base.repetitions = 2;
  SynthSpec cand = base;
  cand.scale = 1.5;
  cand.seed = 3;
  auto r = run(write_synth_bundle(t.p / "a", base), write_synth_bundle(t.p / "b", cand));
  EXPECT_EQ(r.regressions(), 0u);  // cannot be decided with 2 vs 2
  bool warned = false;
  for (auto& w : r.warnings) warned = warned || w.find("too few repetitions") != std::string::npos;
  EXPECT_TRUE(warned);
  bool undecided = false;
  for (auto& row : r.rows) undecided = undecided || row.verdict == Verdict::undecided;
  EXPECT_TRUE(undecided);
}

TEST(Compare, RefusesMismatchedAndCorruptInputs) {
  Tmp t;
  SynthSpec a;
  SynthSpec b = a;
  b.host = "other-host";
  write_synth_bundle(t.p / "a", a);
  write_synth_bundle(t.p / "b", b);
  try {
    run(t.p / "a", t.p / "b");
    FAIL() << "different hosts accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("--cross-host"), std::string::npos);
  }
  kperflab::compare::Options o;
  o.cross_host = true;
  EXPECT_NO_THROW(run(t.p / "a", t.p / "b", o));
  EXPECT_THROW(Side::load(t.p / "nope"), std::invalid_argument);
  fs::create_directories(t.p / "empty");
  EXPECT_THROW(Side::load(t.p / "empty"), std::invalid_argument);
  std::ofstream(t.p / "a" / "synth.json") << "{\"schema\": \"kperflab.probe/1\"";
  try {
    Side::load(t.p / "a");
    FAIL() << "corrupt bundle accepted";
  } catch (const kperflab::BundleError& e) {
    EXPECT_NE(std::string(e.what()).find("synth.json"), std::string::npos);
  }
}

TEST(Compare, DirectoryOfBundlesPoolsRepetitions) {
  Tmp t;
  SynthSpec s;
  s.repetitions = 3;
  for (int i = 0; i < 3; ++i) {
    s.seed = 10 + i;
    write_synth_bundle(t.p / "runs" / ("b" + std::to_string(i)), s);
  }
  s.seed = 20;
  write_synth_bundle(t.p / "c", s);
  auto r = run(t.p / "runs", t.p / "c");
  EXPECT_EQ(r.base_reps, 9u);
  EXPECT_EQ(r.cand_reps, 3u);
}

// What the sides ran differently is listed with the provenance: a probe
// parameter (here the sample count) as <probe>.<parameter>.
TEST(Compare, ProbeParameterDifferencesAreListed) {
  Tmp t;
  SynthSpec a;
  a.metrics = 2;
  a.repetitions = 3;
  a.samples = 500;
  SynthSpec b = a;
  b.samples = 400;
  auto r = run(write_synth_bundle(t.p / "a", a), write_synth_bundle(t.p / "b", b));
  bool found = false;
  for (auto& d : r.provenance)
    if (d.field == "synth.samples") {
      found = true;
      EXPECT_EQ(d.base, "500");
      EXPECT_EQ(d.cand, "400");
    }
  EXPECT_TRUE(found) << "synth.samples not among the differences";
}

// Golden outputs: a fixed synthetic comparison in every format.
TEST(Compare, GoldenOutputs) {
  Tmp t;
  SynthSpec base;
  base.metrics = 3;
  base.repetitions = 8;
  base.samples = 500;
  SynthSpec cand = base;
  cand.seed = 7;
  cand.scale = 1.2;
  cand.release = "6.12.0-synth-cand";
  Side a = Side::load(write_synth_bundle(t.p / "a", base));
  Side b = Side::load(write_synth_bundle(t.p / "b", cand));
  kperflab::report::Input in{&a, {&b}, {kperflab::compare::compare(a, b, {})}, false};
  golden("compare.txt", kperflab::report::text(in));
  golden("compare.md", kperflab::report::markdown(in));
  golden("compare.term", kperflab::report::terminal(in));
  golden("compare.html", kperflab::report::html(in));
  std::istringstream txt(kperflab::report::text(in));
  std::string line;
  while (std::getline(txt, line)) {
    EXPECT_LE(line.size(), 80u) << line;
    for (unsigned char c : line) EXPECT_LT(c, 128) << "non-ASCII in text report: " << line;
  }
  golden("export.csv", kperflab::exporting::csv(a.bundles[0]));
  golden("export.gbench.json", kperflab::exporting::gbench(a.bundles[0]));
  golden("export.hlog", kperflab::exporting::hlog(a.bundles[0]));
}
