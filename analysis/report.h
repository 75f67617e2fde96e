// SPDX-License-Identifier: GPL-2.0-only
// Renderings of a comparison: terminal (color), Markdown, plain text for a
// kernel mailing list (<= 80 columns, ASCII only), self-contained HTML with
// SVG plots (html.cpp).
#pragma once

#include <cstdint>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "analysis/compare.h"

namespace kperflab::report {

struct Input {
  const compare::Side* base;
  std::vector<const compare::Side*> cands;
  std::vector<compare::Result> results;  // one per candidate
  bool all_rows = false;                 // list every row, unchanged ones too
  double alpha = 0.05;                   // the CIs are at 1 - alpha (compare::Options)
  size_t top = 20;                       // undecided rows listed without all_rows
  size_t top_flagged = 30;               // flagged rows listed without all_rows
};

std::string text(const Input& in);
std::string markdown(const Input& in);
std::string terminal(const Input& in);
std::string html(const Input& in);

// Shared by the renderers.
std::string fmt_value(double v, const std::string& unit);
std::string fmt_change(double c);
// A row's change (or CI end): relative, or in the metric's unit where the
// base is 0 (Row::absolute).
std::string fmt_change(const compare::Row& r, double c);
// The row's minimum effect: "2.0%", or "0.01 ratio" for an absolute row.
std::string fmt_min_effect(const compare::Row& r);
// Each unit's common shift: "base 1a2b3c4d +0.4%, ...; cand ...".
std::string shifts_text(const compare::Result& r);
// "95% CI" for alpha 0.05, "99.9% CI" for 0.001.
std::string ci_label(double alpha);
// Relative spread as a percentage; "n/a" when NaN (fewer than 2 units).
std::string fmt_spread(double s);
// "8 vs 8 (basis: repetitions)": units tested per side and what they are.
std::string fmt_n(const compare::Row& r);
// The machine of a side: "host, CPU model, N CPUs" (printable; several
// distinct ones joined with " | ").
std::string machine(const compare::Side& s);
// What the verdicts of a report rest on, in words.
std::string basis_text(compare::Basis b);
// Side summary: "8 repetitions, 1 boot".
std::string side_counts(size_t reps, size_t boots);
// A provenance difference's values: "-old +new" words, or "a -> b".
std::string fmt_diff(const compare::ProvDiff& d);
bool is_time_unit(const std::string& unit);
// "0.012", or "1.2e-05" below 0.001.
std::string pval(double p);
// Plain ASCII wrapped at 78 columns for mailing lists; continuation lines
// start with `cont` (default: indent plus two spaces).
void wrap(std::ostringstream& o, const std::string& s, const std::string& indent,
          const std::string& cont);
void wrap(std::ostringstream& o, const std::string& s, const std::string& indent);
bool listed(const compare::Row& r, bool all_rows);
std::vector<const compare::Row*> ordered_rows(const compare::Result& r, bool all_rows);
// A row's |change| for ranking: NaN last, "new" (inf) first.
double effect_rank(double change);
// The same of a row; where its change is NaN (no variance on a side), of the
// ratio of the values shown.
double row_effect(const compare::Row& r);
// The rows a report lists. all_rows: every row. Otherwise the `top_flagged`
// flagged rows (regression, improvement, change) of largest |change| (by
// verdict: regressions first), every probe's geometric-mean row, and the
// `top` undecided rows of largest |change|; `left` counts the undecided rows
// not listed, `left_flagged` the flagged ones by probe. Ordered as
// ordered_rows.
struct Selection {
  std::vector<const compare::Row*> rows;
  size_t left = 0;
  std::map<std::string, size_t> left_flagged;
};
Selection selected_rows(const compare::Result& r, bool all_rows, size_t top,
                        size_t top_flagged = SIZE_MAX);
// "12 more undecided rows, smaller changes: --all lists every row".
std::string left_text(size_t left);
// "37 more flagged rows, smaller changes (ipi 30, membarrier 7): ..."; "" when
// none was left out. `what`: "rows" or "lines".
std::string left_flagged_text(const std::map<std::string, size_t>& left, const std::string& what);

}  // namespace kperflab::report
