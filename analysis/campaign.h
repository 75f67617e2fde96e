// SPDX-License-Identifier: GPL-2.0-only
// "Same box, two kernels" (issue #17): where a campaign of runs across
// reboots stands. Each side (a catalog selector, e.g. tag:base) counts its
// boots; the statistics say how many each side needs (at least 3, more when
// compare leaves changes undecided); the next step is named: run now, or
// reboot into the other kernel first.
#pragma once

#include <string>
#include <vector>

#include "analysis/compare.h"

namespace kperflab::campaign {

struct SideState {
  std::string selector;
  std::vector<std::string> releases;  // kernels of its bundles
  size_t boots = 0;
  bool this_boot = false;    // a bundle of this side ran in the running boot
  bool this_kernel = false;  // the running kernel is one of its releases
};

struct State {
  SideState a, b;
  size_t needed = 3;       // boots per side
  std::string why;         // where `needed` comes from
  std::string next;        // the next thing to do, in words with the command
  bool done = false;       // both sides have `needed` boots
};

// boot_id and release of the running kernel are passed in (tests).
State assess(const std::string& sel_a, const compare::Side& a, const std::string& sel_b,
             const compare::Side& b, const compare::Options& opt, const std::string& boot_id,
             const std::string& release, size_t min_boots);

std::string text(const State& s);


}  // namespace kperflab::campaign
