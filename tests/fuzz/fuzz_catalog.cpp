// SPDX-License-Identifier: GPL-2.0-only
// The results catalog (analysis/catalog.h) over a fuzzed runs tree and a
// fuzzed database image: bundles in fuzz_bundle.h's format (meta.json,
// kconfig.gz, any file), then optionally "\n=== db\n" and the bytes of
// catalog.sqlite. A file "selectors" in the first bundle adds selectors to
// the fixed ones, one a line. Opening (judging the file: ours, older,
// foreign, corrupt), syncing twice (the second sees nothing new), a
// --rebuild, listing and selecting run; a refusal (foreign file, malformed
// selector) is a clean outcome; a crash, a sanitizer report, a hang or
// runaway memory is a finding.
#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "analysis/catalog.h"
#include "cli/verbs.h"
#include "fuzz_bundle.h"

using namespace kperflab;
namespace fs = std::filesystem;

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  fuzz::silence_stdout();
  return 0;
}

namespace {

void use(const catalog::Catalog& c, const std::vector<std::string>& selectors) {
  (void)c.all();
  for (auto& s : selectors) try {
      (void)c.select(s);
    } catch (const std::invalid_argument&) {
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  auto parts = fuzz::split(in, "\n=== db\n");
  auto dirs = fuzz::write_bundles(reinterpret_cast<const uint8_t*>(parts[0].data()),
                                  parts[0].size(), 8);
  const fs::path runs = dirs[0].parent_path();
  if (parts.size() > 1) fuzz::put(runs / "catalog.sqlite", parts[1]);
  std::vector<std::string> selectors = {"tag:base",      "kernel:6.*",  "host:*",
                                        "config:HZ=250", "config:X=n",  "probe:membarrier",
                                        "boot:%",        "tag:a+host:b"};
  std::ifstream sel(dirs[0] / "selectors");
  for (std::string line; selectors.size() < 24 && std::getline(sel, line);)
    selectors.push_back(line);
  try {
    {
      catalog::Catalog c(runs);
      use(c, selectors);
    }
    catalog::Catalog again(runs);
    use(again, selectors);
    catalog::Catalog rebuilt(runs, true);
    use(rebuilt, selectors);
    catalog::catalog_main({"--runs-dir", runs.string()});
  } catch (const std::exception&) {
  }
  return 0;
}
