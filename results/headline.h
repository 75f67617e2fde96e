// SPDX-License-Identifier: GPL-2.0-only
// The headline figures of a bundle: what a fleet runner reports for each
// probe (LAVA test cases, KTAP diagnostics, KCIDB tests). One selection, so
// the three never disagree on what a run measured:
//  - every histogram present in each repetition with at least
//    kHeadlineMinCount samples in each (core/until_ci.h): its p50 and p99;
//  - every scalar that is a rate or a ratio (unit "ratio", "per_*" or
//    "<x>/s"); counts and diagnostics (negative deltas, unmatched events)
//    stay in the bundle and `kperflab show`;
// each the median over the repetitions. A violation is a measured fact that
// makes the probe's verdict "fail": a litmus outcome that a membarrier
// command forbids was observed (litmus/<cmd>/<order>/forbidden > 0 for any
// <cmd> but the "none" control), or the probe ended partial or failed.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "results/bundle.h"
#include "results/json_access.h"

namespace kperflab::headline {

struct Figure {
  std::string metric;  // as in the bundle: "private_expedited/targets=1/spin/latency"
  std::string stat;    // p50, p99 (histograms) or value (scalars)
  double value = 0;    // median over the repetitions
  std::string unit;    // as stored: ns, ps, ratio, per_million, ops/s, ...
  size_t repetitions = 0;
  // The metric's group: its first path component that is not a sweep
  // parameter ("private_expedited"; "clock" of "freq=1000/.../clock/...").
  std::string group() const;
};

struct Probe {
  std::string name;
  std::string status;  // complete, partial, skipped, failed (meta.json probes)
  std::string reason;  // why skipped or failed; empty otherwise
  std::vector<Figure> figures;          // sorted by metric, then stat
  std::vector<std::string> violations;  // one line each, e.g. "litmus/x/y/forbidden = 3"
  size_t thin = 0;  // histograms left out: fewer than kHeadlineMinCount samples somewhere
  bool passed() const { return (status == "complete") && violations.empty(); }
};

// One probe from its document (<probe>.json; null when there is none) and
// the status and reason meta.json gives it.
Probe summarize_probe(const std::string& name, const std::string& status,
                      const std::string& reason, const JsonView* doc);

// Every probe meta.json lists, in its order; skipped ones with their reason.
std::vector<Probe> summarize(const Bundle& b);

// A name fit for LAVA test cases and KTAP test names: [A-Za-z0-9._-] only,
// '/' becomes '.', '=' becomes '-', anything else '_'.
std::string case_name(const std::string& text);

// Text on one line for a diagnostic or a reason: control characters and
// newlines become spaces, "#" is kept (KTAP reads "# SKIP" only at the
// start of a directive). It goes into job logs that a LAVA dispatcher
// scans for "<LAVA_SIGNAL_... ...>", "<LAVA_TEST_RUNNER ...>" and
// "<LAVA_MULTI_NODE> ..." anywhere in a line, so bundle text must never
// spell one: every "<LAVA_" becomes "(LAVA_".
std::string one_line(const std::string& text);

// The violation of a probe that ended partial or failed ("the probe ended
// partial: why"); empty for a complete or skipped one. summarize_probe()
// lists it last among the violations; KTAP reports it as its own subtest.
std::string run_violation(const std::string& status, const std::string& reason);

}  // namespace kperflab::headline
