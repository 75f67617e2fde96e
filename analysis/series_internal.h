// SPDX-License-Identifier: GPL-2.0-only
// Shared by series_picks.cpp (what the renderings list) and series_text.cpp
// (text and Markdown): a step's mark and text, the side and step tags. Not
// for readers outside the series files.
#pragma once

#include <cstddef>
#include <string>

#include "analysis/series.h"

namespace kperflab::series::detail {

// "R", "I", "C", "?" for a present step's verdict, else "".
const char* mark(const Step& s);
// A regression, improvement or change.
bool flagged(const Step& s);
// The step's change and its mark ("+3.1% R"); "" where not present.
std::string step_text(const Step& s);
// "[i+1]", and "[s+1]->[s+2]".
std::string side_tag(size_t i);
std::string step_tag(size_t s);

}  // namespace kperflab::series::detail
