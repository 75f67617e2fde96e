// SPDX-License-Identifier: GPL-2.0-only
// `compare` of two fuzzed bundles (or one against itself) and every report
// rendering of the result: text, Markdown, terminal and HTML with its SVG
// plots and heatmaps.
#include <cstdint>
#include <vector>

#include "analysis/compare.h"
#include "analysis/report.h"
#include "fuzz_bundle.h"

using namespace kperflab;

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  fuzz::silence_stdout();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto dirs = fuzz::write_bundles(data, size, 2);
  try {
    auto base = compare::Side::load(dirs[0]);
    auto cand = compare::Side::load(dirs.size() > 1 ? dirs[1] : dirs[0]);
    compare::Options opt;
    opt.resamples = 200;  // the bootstrap's cost, not its precision, is fuzzed here
    opt.cross_host = true;
    report::Input in{&base, {&cand}, {compare::compare(base, cand, opt)}, true};
    (void)report::text(in);
    (void)report::markdown(in);
    (void)report::terminal(in);
    (void)report::html(in);
  } catch (const std::exception&) {
  }
  return 0;
}
