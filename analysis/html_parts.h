// SPDX-License-Identifier: GPL-2.0-only
// Building blocks of the self-contained HTML pages (html.cpp), shared by the
// comparison report and the series site (series_html.cpp).
#pragma once

#include <algorithm>
#include <cmath>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "analysis/compare.h"

namespace kperflab::report {

// The pages' one stylesheet (no external resources).
extern const char* const kStyle;

// Text from a bundle as HTML: control characters spelled (printable()),
// markup characters escaped.
std::string esc(const std::string& text);

// Cell colour from blue (lo) to red (hi); grey where not measured (NaN).
std::string fill_of(double v, double lo, double hi);

// A matrix of one side: the per-cell median over every repetition of every
// bundle that has a matrix of this probe, title, unit and shape.
struct Matrix {
  std::string probe, title, unit;
  nlohmann::json rows, cols;
  std::vector<std::vector<std::vector<double>>> cells;  // row, col -> values
  size_t count = 0;                                     // matrices merged
  double median(size_t r, size_t c) const {
    auto v = cells[r][c];
    if (v.empty()) return NAN;
    std::sort(v.begin(), v.end());
    size_t n = v.size();
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
  }
};

// key (probe, title, unit, rows, cols) -> merged matrix of the side.
std::map<std::string, Matrix> matrices(const compare::Side& s);

// A colour scale lo .. hi in ten steps, captioned.
std::string legend(double lo, double hi, const std::string& unit, const std::string& caption);

// One side's heatmap of a matrix on the colour scale lo .. hi.
std::string heatmap(const Matrix& m, const std::string& side, double lo, double hi);

// Round axis ticks. Linear: consecutive multiples of one step of 1, 2 or 5
// x 10^k, about `want` of them, the axis widened to the outer ticks
// (lo/hi); `integer` (a count of CPUs, threads, callers): a step of 1 at
// least. Log (positive lo): 1, 2 and 5 x 10^k inside lo..hi, powers of ten
// alone when those are too many, the linear rule when fewer than two fall
// inside. Unrounded ticks (0.4489ns) and fractional CPU counts (1.25) read
// as data; round ones do not.
struct Ticks {
  double lo = 0, hi = 1;
  std::vector<double> at;
};
Ticks linear_ticks(double lo, double hi, int want = 5, bool integer = false);
Ticks log_ticks(double lo, double hi);

// An SVG plot area with its axes, tick labels and titles, and a legend at
// its right, outside the area (never on the curves). Classes for readers
// and tests: plot-area, xtick, ytick, xlabel, ylabel, legend.
struct Frame {
  int w = 560, h = 260, l = 64, r = 130, t = 24, b = 42;  // r: the legend's column
  std::string title, xlabel, ylabel;
  bool xlog = false, ylog = false;
  Ticks x, y;
  std::vector<std::string> xtick_text, ytick_text;  // one per tick
  std::vector<std::pair<std::string, std::string>> legend;  // name, colour
  double px(double v) const;
  double py(double v) const;
  std::string open() const;   // <figure><svg> .. axes, ticks, titles
  std::string close() const;  // legend, </svg></figure>
};

// The provenance differences of a comparison as a table, columns named
// `base` and `cand`.
void html_provenance(std::ostringstream& o, const compare::Result& r, const std::string& base,
                     const std::string& cand);

}  // namespace kperflab::report
