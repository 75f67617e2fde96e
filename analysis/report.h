// SPDX-License-Identifier: GPL-2.0-only
// Renderings of a comparison: terminal (color), Markdown, plain text for a
// kernel mailing list (<= 80 columns, ASCII only), self-contained HTML with
// SVG plots (html.cpp).
#pragma once

#include <string>
#include <vector>

#include "analysis/compare.h"

namespace kperflab::report {

struct Input {
  const compare::Side* base;
  std::vector<const compare::Side*> cands;
  std::vector<compare::Result> results;  // one per candidate
  bool all_rows = false;                 // list unchanged rows too
};

std::string text(const Input& in);
std::string markdown(const Input& in);
std::string terminal(const Input& in);
std::string html(const Input& in);

// Shared by the renderers.
std::string fmt_value(double v, const std::string& unit);
std::string fmt_change(double c);
bool listed(const compare::Row& r, bool all_rows);
std::vector<const compare::Row*> ordered_rows(const compare::Result& r, bool all_rows);

}  // namespace kperflab::report
