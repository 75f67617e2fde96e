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

// The provenance differences of a comparison as a table, columns named
// `base` and `cand`.
void html_provenance(std::ostringstream& o, const compare::Result& r, const std::string& base,
                     const std::string& cand);

}  // namespace kperflab::report
