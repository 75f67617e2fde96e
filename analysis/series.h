// SPDX-License-Identifier: GPL-2.0-only
// A series report: N sides in order (kernels or configs, e.g. 6.1 -> 6.12
// -> 6.12-rt -> own build), per metric a line across the series with each
// side's median and its interval, and every step (side i -> i+1) tested by
// the comparison engine, its significant ones flagged. Renderings: text for
// a mailing list (<= 80 columns), Markdown, and a static HTML site (index
// and a page per probe; series_html.cpp).
#pragma once

#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include "analysis/compare.h"

namespace kperflab::series {

struct Options {
  compare::Options compare;  // each step's comparison
  bool all = false;  // list every p50/value line, not only those with a flagged or undecided step
};

// One side's value of a line: the median over its units (the boots when the
// side has several, else the repetitions) with the distribution-free 95 %
// interval of that median from 6 units on, else the range of the units.
struct Cell {
  bool present = false;
  double median = NAN, lo = NAN, hi = NAN;
  size_t n = 0;
  bool ci = false;  // lo/hi: a 95 % CI of the median (true) or min/max (false)
};

// A step i -> i+1 of a line: the comparison's verdict (unchanged where the
// metric is on one side only: present = false).
struct Step {
  bool present = false;
  compare::Verdict verdict = compare::Verdict::unchanged;
  double change = 0, p_adj = 1;
};

struct Line {
  std::string probe, metric, stat, unit, better;
  std::vector<Cell> cells;  // one per side
  std::vector<Step> steps;  // one per step (sides - 1)
  // Other statistics of the metric with the same values at every side and
  // step (p90 = p99 = p99_9 below 1000 samples): listed once, as this line.
  std::vector<std::string> same_stats;
  // A regression, improvement or change in some step.
  bool flagged() const;
  // Flagged, or a step changed by more than its minimum effect without
  // being significant (undecided): what compare lists too.
  bool listed() const;
  // "p90 = p99 = p99_9": the stat and its same_stats.
  std::string stats() const;
};

struct Result {
  std::vector<std::string> labels;    // per side, as given (path or selector)
  std::vector<std::string> machines;  // per side (report::machine)
  std::vector<std::string> kernels;   // per side: the distinct kernel releases
  std::vector<size_t> reps, boots;    // per side
  std::vector<compare::Result> steps;
  std::vector<Line> lines;  // by probe, metric, stat
  double alpha = 0.05;
  bool all = false;
};

// Throws std::invalid_argument with fewer than two sides.
Result build(const std::vector<const compare::Side*>& sides, const Options& opt);

std::string text(const Result& r);
std::string markdown(const Result& r);
// Writes index.html and <probe>.html into dir (created; an existing
// non-empty dir needs force, and never a bundle). Returns the files written.
std::vector<std::filesystem::path> html_site(const Result& r,
                                             const std::vector<const compare::Side*>& sides,
                                             const std::filesystem::path& dir, bool force);

// `kperflab series`.
int series_main(const std::vector<std::string>& args);

}  // namespace kperflab::series
