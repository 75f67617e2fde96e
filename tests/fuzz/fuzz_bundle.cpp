// SPDX-License-Identifier: GPL-2.0-only
// The bundle loader and every reader of one bundle: `show` (with
// histograms drawn) and the three export formats. A rejected bundle is a
// clean outcome; a crash, a sanitizer report, a hang or runaway memory is
// a finding.
#include <cstdint>
#include <string>
#include <vector>

#include "analysis/export.h"
#include "fuzz_bundle.h"
#include "results/bundle.h"
#include "cli/runner.h"

using namespace kperflab;

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  fuzz::silence_stdout();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto dirs = fuzz::write_bundles(data, size, 1);
  try {
    Bundle b = Bundle::load(dirs[0]);
    (void)exporting::hlog(b);
    (void)exporting::gbench(b);
    (void)exporting::csv(b);
    show_main({dirs[0].string(), "--hist"});
  } catch (const std::exception&) {
  }
  return 0;
}
