// SPDX-License-Identifier: GPL-2.0-only
// kperflab export --kcidb: bundles as a KCIDB I/O v5.3 report (kernelci/kcidb-io
// kcidb_io/schema/v05_03.py), the format KernelCI's common results database
// takes. Per kernel a checkout (release + version: the source identity a
// bundle knows) and a build (+ config hash, machine); per probe a test
// "kperflab.<probe>" and per headline figure (results/headline.h: the selection
// LAVA and KTAP report too) a test "kperflab.<probe>.<metric>.<stat>" with
// its number. With a baseline, the comparison (analysis/compare.h) turns
// each figure's DONE into PASS or FAIL (a flagged regression).
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "analysis/compare.h"
#include "results/bundle.h"

namespace kperflab::kcidb {

inline constexpr int kMajor = 5;
inline constexpr int kMinor = 3;

struct Options {
  std::string origin = "kperflab";
  // Compared against each exported bundle on its own; nullptr: no verdicts.
  const compare::Side* baseline = nullptr;
  compare::Options compare;
};

// KCIDB's origin pattern, ^[a-z0-9_]+$: ids are "<origin>:<anything>".
bool valid_origin(const std::string& origin);

// A figure as a test's "number": times become seconds with prefix "metric"
// (KCIDB scales them back to ms/us/ns for display, and times of any stored
// unit compare); rates (<x>/s) keep their unit and get the prefix; anything
// else keeps value and unit unscaled ("ratio" becomes dimensionless).
nlohmann::json number(double value, const std::string& unit);

// The test path, dot-separated and fit for KCIDB's path pattern:
// kperflab.<probe>, or kperflab.<probe>.<metric>.<stat> with the metric
// through headline::case_name ("a/b=1" -> "a.b-1"); an empty component
// (a metric with "//" or a leading '.') becomes "_".
std::string test_path(const std::string& probe, const std::string& metric = "",
                      const std::string& stat = "");

// A figure's status from the comparison's verdict: FAIL for a regression,
// PASS for unchanged, improvement or a change without a better direction,
// DONE for undecided (too few units to say: no claim about the code).
const char* status_of(compare::Verdict v);

// The report over bundles (each its checkout, build and tests; checkouts and
// builds of the same kernel appear once). Throws std::invalid_argument for a
// bad origin or two bundles with one bundle id (their test ids would clash),
// and what compare::compare throws (other hosts without cross_host).
nlohmann::json report(const std::vector<Bundle>& bundles, const Options& opt);
// The same over bundle directories, loaded one at a time: no more than one
// bundle's tree is held while the report grows.
nlohmann::json report(const std::vector<std::filesystem::path>& dirs, const Options& opt);

// A report's tests held in memory (analysis/summary.h json_bytes) are at most
// this many bytes; past it report() throws std::invalid_argument naming the
// limit. A bundle of a 64-CPU host's standard profile makes about 3 MB of
// report text.
inline constexpr size_t kMaxReportBytes = size_t{256} << 20;

}  // namespace kperflab::kcidb
