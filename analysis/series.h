// SPDX-License-Identifier: GPL-2.0-only
// A series report: N sides in order (kernels or configs, e.g. 6.1 -> 6.12
// -> 6.12-rt -> own build), per metric a line across the series with each
// side's median and its interval, and every step (side i -> i+1) tested by
// the comparison engine, its significant ones flagged. Renderings: text for
// a mailing list (<= 80 columns), Markdown, and a static HTML site (index
// and a page per probe; series_html.cpp). Text and Markdown list every
// flagged step and the `top` largest undecided ones (every line with each
// side's value only with `all`): a four-kernel lab series is thousands of
// lines otherwise.
#pragma once

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "analysis/compare.h"

namespace kperflab::series {

struct Options {
  compare::Options compare;  // each step's comparison
  bool all = false;  // list every p50/value line, not only those with a flagged or undecided step
  size_t top = 15;   // undecided steps listed by text and Markdown without `all`
  size_t top_flagged = 20;  // lines with a flagged step listed by text and Markdown
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

// A metric of a probe with the lines the site plots together: its p50 and
// p99 (p90 where p99 was left out, too few samples), or its value, and any
// other statistic of it that a step flagged; with the largest effect among
// its listed lines.
struct Family {
  std::string probe, metric, unit;
  std::vector<Line> lines;  // p50 and p99 (or p90), or value (those present)
  double effect = 0;        // report::effect_rank of its largest flagged or undecided step
  bool flagged = false;
};

// A step's |change| for ranking (report::effect_rank: NaN last); where the
// change is NaN (no variance on a side), of the ratio of the medians shown.
double step_effect(const Line& l, size_t step);
// A line's largest step_effect over its flagged or undecided steps.
double effect(const Line& l);

struct Result {
  std::vector<std::string> labels;    // per side, as given (path or selector)
  std::vector<std::string> machines;  // per side (report::machine)
  std::vector<std::string> kernels;   // per side: the distinct kernel releases
  std::vector<size_t> reps, boots;    // per side
  std::vector<compare::Result> steps;
  std::vector<Line> lines;  // by probe, metric, stat
  // Every metric with a listed line, flagged first, then by effect.
  std::vector<Family> families;
  double alpha = 0.05;
  bool all = false;
  size_t top = 15;
  size_t top_flagged = 20;
};

// What the default text, Markdown and probe pages list of a line: some of
// its steps.
struct Pick {
  const Line* line;
  std::vector<size_t> steps;
};
// Every line with a flagged step (its flagged steps), by probe, largest
// change first; at most `limit` of them (those of largest change over every
// probe), the others counted by probe in `left` when given.
std::vector<Pick> flagged_picks(const Result& r, size_t limit = SIZE_MAX,
                                std::map<std::string, size_t>* left = nullptr);
// The r.top undecided steps of largest |change| over every line, grouped by
// line, largest first; `total`: the undecided steps of every line.
std::vector<Pick> undecided_picks(const Result& r, size_t& total);
// Per probe, per step: the rows flagged and the probe's geometric-mean row
// ("[1]->[2] 2 R, gm +3.1% ?; ..."); the probes with neither in any step
// last, as one entry ("nothing flagged", "cpumask, ipi").
std::vector<std::pair<std::string, std::string>> findings(const Result& r,
                                                          const std::string& arrow);

// Warnings of the steps, each said once: the text and the steps (indices)
// that gave it, in the order first seen.
std::vector<std::pair<std::string, std::vector<size_t>>> step_warnings(const Result& r);
// "[1] -> [2], [3] -> [4]", or "every step".
std::string steps_text(const std::vector<size_t>& steps, size_t nsteps,
                       const std::string& arrow = " -> ");

// Throws std::invalid_argument with fewer than two sides.
Result build(const std::vector<const compare::Side*>& sides, const Options& opt);

std::string text(const Result& r);
std::string markdown(const Result& r);
// Writes index.html and <probe>.html into dir (created; an existing
// non-empty dir needs force, and never a bundle). Returns the files written.
std::vector<std::filesystem::path> html_site(const Result& r,
                                             const std::vector<const compare::Side*>& sides,
                                             const std::filesystem::path& dir, bool force);


}  // namespace kperflab::series
