// SPDX-License-Identifier: GPL-2.0-only
// `kperflab trend` (issue #30, "Watch a history"): the bundles of one
// selector (or directory) in order of time or of kernel version, and per
// headline metric the points where its level changed. The boot is the unit:
// bundles sharing kernel.boot_id are one unit (the median of their values),
// each bundle's value the median over its repetitions. A change-point test
// in the manner of Mozilla perfherder's detector: at each candidate point
// a window of units before against a window after, a pooled t test of the
// two (the history is the noise model: no other variance is assumed),
// Bonferroni over the metric's candidate points, local maxima at least a
// window apart, and Benjamini-Hochberg over the peaks of every metric. A
// change is reported when its q is below alpha and its size at least the
// larger of the --min-effect floor and the metric's own noise between units.
// Method and measured size and power: docs/trend.md (tests/analysis/sim_trend).
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "analysis/compare.h"

namespace kperflab::trend {

struct Options {
  size_t window = 12;     // units in each window, at most
  size_t min_side = 5;    // units in each window, at least (the edges); min(5, window)
  double alpha = 0.05;    // false discovery rate over the peaks of every metric
  double min_effect = 0.02;  // floor of the minimum |relative change|
  bool by_kernel = false;    // order by kernel.release (version order), then time
  bool cross_host = false;   // allow bundles of several hosts
  std::vector<std::string> probes;  // only these (empty: all)
};

// The windows' sizes at the edges: min_side, but never more than window
// nor less than 2.
size_t min_side(const Options& o);

// One metric statistic across the units: its value per unit, NaN where the
// unit has none.
struct Metric {
  std::string probe, metric, stat, unit;
  std::string better;      // "lower", "higher" or "" (no direction)
  bool quantised = false;  // a histogram quantile: the HDR rounding floors its variance
  std::vector<double> v;   // per unit
  std::string key() const { return probe + "/" + metric + ":" + stat; }
};

// A candidate change of one metric: a local maximum of the two-window test.
struct Change {
  size_t metric = 0;           // index into the metrics given to detect()
  size_t at = 0;               // unit index of the first unit after the change
  size_t prev = 0;             // unit index of the last unit before it
  size_t before_n = 0, after_n = 0;  // units in each window
  bool log = true;             // tested on log values (every value > 0); else linear
  double before = 0, after = 0;  // the windows' levels: geometric (log) or arithmetic means
  double change = 0, lo = 0, hi = 0;  // relative change and its 95 % interval
  double abs_change = 0, abs_lo = 0, abs_hi = 0;  // the same in the metric's unit
  double t = 0, df = 0, p = 1;  // the two windows' t test
  double p_metric = 1;          // p times the metric's candidate points (Bonferroni)
  double q = 1;                 // Benjamini-Hochberg over every peak of every metric
  double noise = 0;        // the metric's robust SD between neighbouring units (relative)
  double min_effect = 0;   // max(Options::min_effect, noise)
  size_t candidates = 0;   // the metric's candidate points
  bool flagged = false;    // q <= alpha and |change| >= min_effect
};

// "regression", "improvement" or "change" (no better direction) by the
// metric's direction and the sign of the change.
const char* verdict(const Change& c, const Metric& m);

// What detect() found: every peak (flagged or not), and how many metrics
// were tested and too short.
struct Detection {
  std::vector<Change> peaks;  // by metric, then unit
  size_t tested = 0;          // metrics with at least 2 * min_side units
  size_t short_metrics = 0;   // metrics with fewer (not tested)
  size_t clipped = 0;  // values pulled in as outliers (a Hampel filter; docs/trend.md)
  size_t flagged() const;
};

// The engine on numbers (the tests and the simulation drive it directly).
Detection detect(const std::vector<Metric>& metrics, const Options& o);

// A bundle of the history, as the report names it.
struct BundleRef {
  std::string path, started, release, boot;  // boot: kernel.boot_id ("" when none)
};

// A unit: one boot, the bundles that ran in it (indices into Result::bundles).
struct Unit {
  std::string boot;  // kernel.boot_id, or the bundle's directory name without one
  std::vector<size_t> bundles;
};

struct Result {
  std::string source;   // the selector or path given
  std::string machine;  // report::machine of the bundles
  Options opt;
  std::vector<BundleRef> bundles;  // in the history's order
  std::vector<Unit> units;         // in the history's order
  std::vector<Metric> metrics;     // every headline metric statistic seen
  Detection det;
  std::vector<const Change*> changes() const;  // the flagged peaks, largest |change| first
  const BundleRef& first_bundle(size_t unit) const { return bundles[units[unit].bundles[0]]; }
  std::vector<std::string> kernels() const;  // distinct releases, in the history's order
  // "earliest .. latest" started time of the bundles (by kernel, neither
  // need be an end of the history).
  std::string span() const;
};

// Version order of kernel releases: runs of digits compare as numbers,
// anything else byte by byte (6.1.0-1 < 6.1.0-10 < 6.12.0). Negative, 0 or
// positive as strcmp.
int version_compare(const std::string& a, const std::string& b);

// Seconds since the epoch of an RFC 3339 date-time (the loader has checked
// it: results/date_time.h); NaN for an empty or malformed one.
double epoch_seconds(const std::string& date_time);

// The history of a side: its bundles ordered, grouped into boots, each
// bundle's headline figures (results/headline.h's selection, from the
// summaries), the change-point test. Throws std::invalid_argument naming
// the problem: too few boots for two windows, bundles of several hosts.
Result build(const compare::Side& side, const std::string& source, const Options& o);

// Renderings (trend_text.cpp, trend_html.cpp): text <= 80 columns, ASCII;
// Markdown; JSON (schema kperflab.trend/1); one self-contained HTML page
// with a plot per flagged metric, the change marked.
std::string text(const Result& r);
std::string markdown(const Result& r);
nlohmann::json to_json(const Result& r);
std::string html(const Result& r);

}  // namespace kperflab::trend
