// SPDX-License-Identifier: GPL-2.0-only
// The default screen of `kperflab show` (#26): a short header, the findings
// a kernel engineer must not miss, then each probe's headline figures
// summarised across its repetitions (median of the per-repetition p50 and
// p99 with a distribution-free 95 % interval of that median). Every line
// fits 100 columns; --repetitions prints the per-repetition listing.
#pragma once

#include <cstdint>

#include <map>
#include <string>
#include <vector>

#include "results/headline.h"
#include "results/bundle.h"
#include "cli/show_args.h"
#include "core/host_info.h"

namespace kperflab {

void show_summary(const Bundle& b, const ShowArgs& a);

namespace show {

inline constexpr size_t kWidth = 100;  // no line of the default screen is wider

// One metric across the repetitions of a probe: the numbers it had in each
// repetition that holds it (absent or null values are left out).
struct Series {
  std::string unit;
  bool hist = false;
  std::vector<double> p50, p99, value;
  uint64_t overflow = 0;
  size_t seen = 0;  // repetitions holding the metric
};
std::map<std::string, Series> collect(const JsonView& doc);

double median(std::vector<double> v);  // NaN for none

// A finding: 0 a violation (the kernel broke a promise, or the run did not
// finish), 1 a warning (the figures may mislead), 2 a note.
struct Finding {
  int level = 2;
  std::string probe;  // "" for the machine
  std::string text;
};
std::vector<Finding> findings(const Bundle& b, const std::vector<headline::Probe>& probes,
                              const std::string& only);
// Wrapped to kWidth, continuation lines indented under the text.
// Every violation and warning; notes up to max_notes (the rest counted,
// with where to find them).
void print_findings(const std::vector<Finding>& f, size_t max_notes = SIZE_MAX);

// "6 min 26 s", "75 s", "850 ms".
std::string format_duration(double s);
// Words wrapped to kWidth: the first line after `lead`, the rest after
// `indent` spaces.
void print_wrapped(const std::string& lead, const std::string& text, size_t indent);
std::string wrapped(const std::string& lead, const std::string& text, size_t indent);

// A probe's figures as text (show_figures.cpp).
std::string print_figures(const headline::Probe& p, const std::map<std::string, Series>& all);

// Lines of figures on the default screen, shared by the probes that ran
// (12 to 30 each; all of them under --probe): four probes and the findings
// fit ~150 lines.
inline constexpr size_t kFigureLines = 80;

}  // namespace show
}  // namespace kperflab
