// SPDX-License-Identifier: GPL-2.0-only
// Series reports (issue #17): steps tested by the comparison engine, the
// step that changed flagged and no other, cells with their interval,
// identical statistics listed once, text <= 80 columns and byte-identical
// (golden), the static site (and how it refuses), and the site rendered by
// a real browser (headless Chromium) where one is installed.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <regex>
#include <sstream>

#include "analysis/compare.h"
#include "analysis/series.h"
#include "golden.h"
#include "plots.h"
#include "synth.h"
#include "tests/common/tmpdir.h"

namespace fs = std::filesystem;
using kperflab::compare::Side;
using kperflab::compare::Verdict;
using kperflab::testing::SynthSpec;
using kperflab::testing::write_synth_bundle;
namespace series = kperflab::series;

namespace {

std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Four kernels, `boots` boots each; the third is 40 % slower.
struct Fixture {
  kperflab::testing::TmpDir tmp;
  std::vector<Side> sides;
  std::vector<const Side*> ptrs;
  explicit Fixture(unsigned boots = 3) {
    const double scale[] = {1.0, 1.0, 1.4, 1.0};
    const char* release[] = {"6.1.0-synth", "6.12.0-synth", "6.12.0-synth-slow", "6.13.0-synth"};
    for (unsigned k = 0; k < 4; ++k) {
      SynthSpec s;
      s.metrics = 2;
      s.repetitions = 4;
      s.samples = 300;
      s.boot_noise = 0.01;
      s.scale = scale[k];
      s.release = release[k];
      fs::path dir = tmp.path / ("k" + std::to_string(k));
      for (unsigned b = 0; b < boots; ++b) {
        s.seed = 1000 * k + b + 1;
        s.boot_id = "k" + std::to_string(k) + "-boot" + std::to_string(b);
        write_synth_bundle(dir / s.boot_id, s);
      }
      sides.push_back(Side::load(dir));
    }
    for (auto& s : sides) ptrs.push_back(&s);
  }
};

const series::Line* find(const series::Result& r, const std::string& metric,
                         const std::string& stat) {
  for (auto& l : r.lines)
    if (l.metric == metric && (l.stat == stat || std::count(l.same_stats.begin(),
                                                            l.same_stats.end(), stat)))
      return &l;
  return nullptr;
}

TEST(Series, FlagsTheStepsThatChangedAndNoOther) {
  Fixture f;
  auto r = series::build(f.ptrs, {});
  ASSERT_EQ(r.steps.size(), 3u);
  for (const char* m : {"op0/latency", "op1/latency"}) {
    const series::Line* l = find(r, m, "p50");
    ASSERT_TRUE(l) << m;
    ASSERT_EQ(l->cells.size(), 4u);
    EXPECT_NE(l->steps[0].verdict, Verdict::regression) << m;
    EXPECT_NE(l->steps[0].verdict, Verdict::improvement) << m;
    EXPECT_EQ(l->steps[1].verdict, Verdict::regression) << m;
    EXPECT_NEAR(l->steps[1].change, 0.4, 0.05) << m;
    EXPECT_EQ(l->steps[2].verdict, Verdict::improvement) << m;
    for (auto& c : l->cells) {
      EXPECT_TRUE(c.present);
      EXPECT_EQ(c.n, 3u);  // the boots are the units
      EXPECT_FALSE(c.ci);  // 3 units: the range, not a CI
      EXPECT_LE(c.lo, c.median);
      EXPECT_LE(c.median, c.hi);
    }
    EXPECT_NEAR(l->cells[2].median / l->cells[1].median, 1.4, 0.05);
  }
  // Only lines with a flagged or undecided step are listed without --all.
  for (auto& l : r.lines) EXPECT_TRUE(l.listed()) << l.metric << " " << l.stat;
}

TEST(Series, SixUnitsGiveAConfidenceIntervalOfTheMedian) {
  Fixture f(6);
  auto r = series::build(f.ptrs, {});
  const series::Line* l = find(r, "op0/latency", "p50");
  ASSERT_TRUE(l);
  for (auto& c : l->cells) {
    EXPECT_EQ(c.n, 6u);
    EXPECT_TRUE(c.ci);
    EXPECT_LT(c.lo, c.hi);
  }
}

TEST(Series, AllListsEveryMedianAndIdenticalStatisticsOnce) {
  Fixture f;
  series::Options o;
  o.all = true;
  auto r = series::build(f.ptrs, o);
  EXPECT_TRUE(find(r, "op0/rate", "value"));
  EXPECT_TRUE(find(r, "op1/latency", "p50"));
  for (size_t i = 0; i < r.lines.size(); ++i)
    for (size_t j = i + 1; j < r.lines.size(); ++j)
      EXPECT_FALSE(r.lines[i].metric == r.lines[j].metric &&
                   r.lines[i].stat == r.lines[j].stat) << r.lines[i].metric;
}

TEST(Series, ProbeSelectsTheLinesWithAllToo) {
  Fixture f;
  series::Options o;
  o.all = true;
  o.compare.probes = {"nosuch"};
  EXPECT_THROW(series::build(f.ptrs, o), std::invalid_argument);  // compare names it
  o.compare.probes = {"synth"};
  auto r = series::build(f.ptrs, o);
  EXPECT_FALSE(r.lines.empty());
  for (auto& l : r.lines) EXPECT_EQ(l.probe, "synth");
}

TEST(Series, NeedsTwoSides) {
  Fixture f;
  EXPECT_THROW(series::build({f.ptrs[0]}, {}), std::invalid_argument);
}

TEST(Series, TextAndMarkdownAreGoldenAndFit80Columns) {
  Fixture f;
  auto r = series::build(f.ptrs, {});
  std::string text = series::text(r), md = series::markdown(r);
  // Paths differ per run; the golden files hold them as <tmp>.
  auto norm = [&](std::string s) {
    return std::regex_replace(s, std::regex(f.tmp.path.string()), "<tmp>");
  };
  text = norm(text), md = norm(md);
  kperflab::testing::golden("series.txt", text);
  kperflab::testing::golden("series.md", md);
  std::istringstream in(text);
  unsigned n = 0;
  for (std::string line; std::getline(in, line);) {
    ++n;
    EXPECT_LE(line.size(), 80u) << "line " << n << ": " << line;
    for (char c : line) EXPECT_TRUE(c >= 0x20 && c < 0x7f) << "non-ASCII on line " << n;
  }
  EXPECT_EQ(series::text(series::build(f.ptrs, {})), series::text(r)) << "not deterministic";
}

TEST(SeriesSite, IndexLinksAPagePerProbeAndRefusesToOverwrite) {
  Fixture f;
  auto r = series::build(f.ptrs, {});
  fs::path site = f.tmp.path / "site";
  auto files = series::html_site(r, f.ptrs, site, false);
  ASSERT_EQ(files.size(), 2u);
  std::string index = slurp(site / "index.html"), page = slurp(site / "probe-synth.html");
  EXPECT_NE(index.find("href='probe-synth.html'"), std::string::npos);
  EXPECT_NE(page.find("href='index.html'"), std::string::npos);
  EXPECT_EQ(index.find("<script"), std::string::npos);
  EXPECT_EQ(page.find("http://") == std::string::npos ||
                page.find("http://") == page.find("http://www.w3.org/2000/svg"),
            true) << "an external resource";
  // One plot per metric (its p50 and p99 together), a dot per side and
  // statistic.
  size_t dots = 0, want = 0, svgs = 0;
  for (size_t at = 0; (at = page.find("<circle", at)) != std::string::npos; ++at) ++dots;
  for (size_t at = 0; (at = page.find("<svg", at)) != std::string::npos; ++at) ++svgs;
  for (auto& fam : r.families)
    for (auto& l : fam.lines)
      for (auto& c : l.cells) want += c.present;
  EXPECT_EQ(dots, want);
  EXPECT_EQ(svgs, r.families.size());
  EXPECT_NE(page.find("stroke='#c0181c'"), std::string::npos) << "no regression segment";
  EXPECT_THROW(series::html_site(r, f.ptrs, site, false), std::invalid_argument);
  EXPECT_NO_THROW(series::html_site(r, f.ptrs, site, true));
  // Never into a bundle.
  fs::path bundle = f.sides[0].bundles[0].dir;
  EXPECT_THROW(series::html_site(r, f.ptrs, bundle / "site", true), std::invalid_argument);
}

// A probe page opens with its findings and flagged lines; then one plot per
// metric with its p50 and p99 (here p90) as two lines, flagged metrics first, then by
// effect; named axes, round ticks, the legend outside the plot area.
TEST(SeriesSite, ProbePagesOpenWithFindingsAndPlotAMetricPerPlot) {
  Fixture f;
  auto r = series::build(f.ptrs, {});
  fs::path site = f.tmp.path / "site";
  series::html_site(r, f.ptrs, site, false);
  std::string page = slurp(site / "probe-synth.html");
  size_t svg = page.find("<svg");
  ASSERT_NE(svg, std::string::npos);
  EXPECT_LT(page.find("<h2>Findings</h2>"), svg);
  EXPECT_LT(page.find("<h2>Flagged lines</h2>"), svg);
  EXPECT_LT(page.find("op0/latency"), svg) << "the flagged lines come after the plots";
  // op0/latency and op1/latency: their p50 and p99 in one plot each.
  ASSERT_FALSE(r.families.empty());
  for (size_t i = 1; i < r.families.size(); ++i) {
    const auto &a = r.families[i - 1], &b = r.families[i];
    EXPECT_TRUE(a.flagged >= b.flagged && (a.flagged != b.flagged || a.effect >= b.effect))
        << a.metric << " before " << b.metric;
  }
  const series::Family* lat = nullptr;
  for (auto& fam : r.families)
    if (fam.metric == "op0/latency") lat = &fam;
  ASSERT_TRUE(lat);
  ASSERT_GE(lat->lines.size(), 2u);
  EXPECT_EQ(lat->lines[0].stat, "p50");
  // 300 samples a repetition: p99 is left out (1000 needed), p90 is the tail.
  EXPECT_EQ(lat->lines[1].stat, "p90");
  // Any other statistic drawn is one a step flagged (here the mean).
  for (size_t i = 2; i < lat->lines.size(); ++i)
    EXPECT_TRUE(lat->lines[i].flagged()) << lat->lines[i].stat;
  EXPECT_EQ(page.find("op0/latency (p50)</text>"), std::string::npos) << "a plot per statistic";
  EXPECT_NE(page.find("op0/latency (p50, p90"), std::string::npos);
  // Plots in the order of r.families.
  size_t last = 0;
  for (auto& fam : r.families) {
    size_t at = page.find(">" + fam.metric + " (", svg);
    ASSERT_NE(at, std::string::npos) << fam.metric;
    EXPECT_GT(at, last) << fam.metric << " out of order";
    last = at;
  }
  using namespace kperflab::testing::plots;
  auto ps = plots(page);
  ASSERT_EQ(ps.size(), r.families.size());
  for (auto& p : ps) {
    EXPECT_EQ(p.xl, "side");
    EXPECT_FALSE(p.yl.empty());
    expect_legend_outside(p, p.yl);
    bool log = p.yt.size() >= 2 && tick_value(p.yt.back()) / tick_value(p.yt.front()) > 20;
    expect_round_ticks(p.yt, log, "series plot " + p.yl);
  }
  // Warnings: each once, with the steps that gave it.
  std::string index = slurp(site / "index.html");
  for (auto& [w, steps] : series::step_warnings(r)) {
    size_t n = 0;
    for (size_t at = 0; (at = index.find(w.substr(0, 40), at)) != std::string::npos; ++at) ++n;
    EXPECT_EQ(n, 1u) << w;
  }
}

// Text and Markdown without --all: every flagged step whatever their
// number, the `top` largest undecided ones, no more; --all: every line with
// each side's value.
TEST(Series, DefaultListsEveryFlaggedStepAndTheLargestUndecided) {
  Fixture f;
  auto r = series::build(f.ptrs, {});
  ASSERT_FALSE(r.lines.empty());
  series::Line proto = r.lines.front();
  r.lines.clear();
  for (int i = 0; i < 400; ++i) {
    series::Line l = proto;
    l.metric = "m" + std::to_string(i) + "x";  // "m5x" is in no other name
    l.same_stats.clear();
    for (auto& st : l.steps) st = {true, Verdict::unchanged, 0.001, 1};
    if (i < 150) l.steps[1] = {true, Verdict::regression, 0.5 + 0.001 * i, 0.001};
    else if (i < 350) l.steps[2] = {true, Verdict::undecided, 0.001 * i, 0.5};
    r.lines.push_back(l);
  }
  for (auto* out : {&series::text, &series::markdown}) {
    std::string t = (*out)(r);
    // The 20 flagged lines of largest change (m149 .. m130), the others
    // counted by probe (#26: the text fits where it is read).
    for (int i = 0; i < 150; ++i)
      EXPECT_EQ(t.find("m" + std::to_string(i) + "x") != std::string::npos, i >= 130)
          << "flagged m" << i;
    EXPECT_NE(t.find("130 more flagged lines, smaller changes (" + proto.probe + " 130)"),
              std::string::npos) << t;
    for (int i = 335; i < 350; ++i)
      EXPECT_NE(t.find("m" + std::to_string(i) + "x"), std::string::npos) << "undecided m" << i;
    EXPECT_EQ(t.find("m334x"), std::string::npos) << "more than 15 undecided";
    EXPECT_EQ(t.find("m350x"), std::string::npos) << "an unchanged line listed";
    EXPECT_NE(t.find("15 of 200"), std::string::npos);
  }
  std::string text = series::text(r);
  size_t lines = 0;
  for (char c : text) lines += c == '\n';
  EXPECT_LE(lines, 200u) << "the default text of 150 flagged and 200 undecided lines";
  r.top_flagged = 150;
  text = series::text(r);
  for (int i = 0; i < 150; ++i)
    EXPECT_NE(text.find("m" + std::to_string(i) + "x"), std::string::npos) << "flagged m" << i;
  EXPECT_EQ(text.find("more flagged"), std::string::npos);
  r.top = 5;
  EXPECT_EQ(series::text(r).find("m344x"), std::string::npos);
  EXPECT_NE(series::text(r).find("5 of 200"), std::string::npos);
  r.all = true;
  text = series::text(r);
  for (int i = 0; i < 400; ++i)
    EXPECT_NE(text.find("m" + std::to_string(i) + "x"), std::string::npos) << "--all: m" << i;
}

// A real browser draws the site: headless Chromium screenshots of the index
// and the probe page must hold far more than a blank page of the same size
// (text, tables, plots), and its DOM must have the plots.
TEST(SeriesSite, RendersInHeadlessChromium) {
  const char* browsers[] = {"chromium", "chromium-browser", "google-chrome"};
  std::string browser;
  for (const char* b : browsers)
    if (std::system(("command -v " + std::string(b) + " >/dev/null 2>&1").c_str()) == 0) {
      browser = b;
      break;
    }
  if (browser.empty()) GTEST_SKIP() << "no chromium here (./run.sh deps installs it)";
  Fixture f;
  auto r = series::build(f.ptrs, {});
  fs::path site = f.tmp.path / "site";
  series::html_site(r, f.ptrs, site, false);
  std::ofstream(f.tmp.path / "blank.html") << "<!DOCTYPE html><html><body></body></html>\n";
  auto shot = [&](const fs::path& page, const fs::path& png) {
    std::string cmd = "timeout 120 " + browser +
                      " --headless --no-sandbox --disable-gpu --hide-scrollbars "
                      "--user-data-dir=" + (f.tmp.path / "profile").string() +
                      " --window-size=1200,900 --screenshot=" + png.string() + " file://" +
                      page.string() + " >" + (f.tmp.path / "chromium.log").string() + " 2>&1";
    int rc = std::system(cmd.c_str());
    EXPECT_EQ(rc, 0) << cmd << "\n" << slurp(f.tmp.path / "chromium.log");
    return fs::exists(png) ? fs::file_size(png) : 0;
  };
  auto blank = shot(f.tmp.path / "blank.html", f.tmp.path / "blank.png");
  auto index = shot(site / "index.html", f.tmp.path / "index.png");
  auto page = shot(site / "probe-synth.html", f.tmp.path / "page.png");
  ASSERT_GT(blank, 0u);
  EXPECT_GT(index, 4 * blank) << "index screenshot " << index << " B v blank " << blank << " B";
  EXPECT_GT(page, 4 * blank) << "probe page screenshot " << page << " B v blank " << blank << " B";
  std::string cmd = "timeout 120 " + browser + " --headless --no-sandbox --disable-gpu "
                    "--user-data-dir=" + (f.tmp.path / "profile").string() + " --dump-dom file://" +
                    (site / "probe-synth.html").string() + " 2>/dev/null";
  std::string dom;
  if (FILE* p = popen(cmd.c_str(), "r")) {
    char buf[4096];
    for (size_t n; (n = fread(buf, 1, sizeof buf, p)) > 0;) dom.append(buf, n);
    pclose(p);
  }
  EXPECT_NE(dom.find("<svg"), std::string::npos) << "the rendered page has no plot";
  EXPECT_NE(dom.find("class=\"legend\""), std::string::npos) << "no legend in the rendered page";
  EXPECT_NE(dom.find("class=\"plot-area\""), std::string::npos);
  EXPECT_NE(dom.find("series index"), std::string::npos);
}

}  // namespace
