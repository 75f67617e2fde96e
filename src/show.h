// SPDX-License-Identifier: GPL-2.0-only
// Rendering of bundles on a terminal (kperflab show).
#pragma once

#include <string>

#include "histogram.h"
#include "results/json_access.h"
#include "sysinfo.h"

namespace kperflab {

std::string format_ns(double ns);
std::string format_value(double v, const std::string& unit);
// full: one row per counts index (the histogram's own resolution).
void draw_histogram(const Histogram& h, const std::string& unit, bool full);
// One probe's metrics, skips and its tables (repetition extra "tables").
// hist: 0 none, 1 eighth-octave rows, 2 every bucket.
// Beyond kShowCpus CPUs, matrices and per-CPU metrics (".../cpu=N") are
// summarised by topology distance (host: the bundle's topology) unless full.
inline constexpr size_t kShowCpus = 16;
void show_probe(const std::string& name, const JsonView& doc, int hist, const HostInfo& host,
                bool full);

}  // namespace kperflab
