// SPDX-License-Identifier: GPL-2.0-only
// Placeholder until the compare engine lands (issue: compare and report).
#include "analysis/cli.h"

#include <cstdio>

namespace kperflab {

int compare_main(const std::vector<std::string>&) {
  std::fprintf(stderr, "kperflab compare: not yet implemented\n");
  return 2;
}

int export_main(const std::vector<std::string>&) {
  std::fprintf(stderr, "kperflab export: not yet implemented\n");
  return 2;
}

}  // namespace kperflab
