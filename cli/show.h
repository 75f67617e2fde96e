// SPDX-License-Identifier: GPL-2.0-only
// Rendering of bundles on a terminal (kperflab show).
#pragma once

#include <set>
#include <string>

#include "core/histogram.h"
#include "results/json_access.h"
#include "core/host_info.h"

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

// Parts the summary screen (show_summary.cpp) shares with the listing.
void print_topology_counts(const JsonView& cpu);  // one line of counts per level
void print_preflight_all(const JsonView& meta);   // every finding, warnings first
void print_tuning(const JsonView& meta);          // what --tune changed
void print_meta_counters(const JsonView& meta);   // --perf-stat / --likwid: what was asked
void print_noise_check(const JsonView& meta);
// A CPU x CPU matrix by topology distance; false when its labels are not CPUs.
bool print_matrix_summary(const JsonView& m, const HostInfo& host);
// One repetition's extra.counters.perf_stat (reasons once, `told`) and likwid.
void print_perf_stat(const JsonView& ps, std::set<std::string>& told);
void print_likwid(const JsonView& lk);

}  // namespace kperflab
