// SPDX-License-Identifier: GPL-2.0-only
// `kperflab show` arguments (CLI11), apart from its rendering (show.cpp).
#pragma once

#include <string>
#include <vector>

namespace kperflab {

struct ShowArgs {
  std::string path;   // the bundle
  std::string probe;  // --probe NAME: only this probe ("" all)
  int hist = 0;       // 0 none, 1 eighth-octave rows (--hist), 2 every bucket (--hist=full)
  bool full = false;  // --full: the summary, then every repetition with matrices and
                      // per-CPU metrics whole, however many CPUs
  bool repetitions = false;  // --repetitions: every metric of every repetition (no summary)
};

// Throws std::invalid_argument naming the option (cli::HelpShown after --help).
ShowArgs parse_show_args(const std::vector<std::string>& args);

}  // namespace kperflab
