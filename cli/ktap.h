// SPDX-License-Identifier: GPL-2.0-only
// `kperflab run --ktap`: the run as KTAP v1 (Documentation/dev-tools/ktap.rst)
// on standard output, so kselftest-style runners read it. One test per probe,
// in run order, printed as soon as the probe ends; subtests per metric group
// (the first component of a metric's name); each group's headline figures
// (results/headline.h) as diagnostic lines before its result. A skipped probe is
// `ok N name # SKIP reason`. A probe that failed, ended partial or saw an
// outcome a membarrier command forbids is `not ok`, and so is a probe that
// never ran because the run was interrupted: the plan always adds up. A
// `not ok` probe always holds a `not ok` subtest (the group of the violation,
// or `run` for a probe that ended partial or failed), because the kernel's
// own parser (tools/testing/kunit/kunit_parser.py) counts only leaf tests.
#pragma once

#include <cstddef>
#include <ostream>
#include <string>

#include "results/headline.h"

namespace kperflab {

class KtapWriter {
 public:
  // Prints the version and plan lines (planned: the probes of this run).
  KtapWriter(std::ostream& out, size_t planned);
  // A diagnostic line at the top level.
  void diag(const std::string& text);
  // One probe's result, with its metric groups as subtests.
  void probe(const headline::Probe& p);
  // A probe that did not run (interrupted before it began).
  void not_run(const std::string& name, const std::string& why);
  size_t reported() const { return n_; }

  // At most this many figures of a group as diagnostics; the rest are
  // counted ("... and N more in the bundle").
  static constexpr size_t kFiguresPerGroup = 8;

 private:
  std::ostream& out_;
  size_t n_ = 0;
};

}  // namespace kperflab
