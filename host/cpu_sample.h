// SPDX-License-Identifier: GPL-2.0-only
// Sampling CPUs by topology (issue #26): on a many-core host a probe that
// measures every CPU, or every pair of CPUs, grows with N or N^2. A sample
// keeps every topology class a kernel engineer reads such figures for (an
// SMT sibling, the same LLC, another LLC of the package, every other NUMA
// node and package) and fills the rest evenly over the LLC groups, so the
// time and the bundle stay bounded as N grows and the same topology always
// gives the same sample.
#pragma once

#include <string>
#include <vector>

#include "host/sysinfo.h"

namespace kperflab {

struct CpuSample {
  std::vector<int> cpus;  // the anchor first, then ascending
  unsigned of = 0;        // CPUs it was chosen from
  bool whole() const { return cpus.size() == of; }
  // "16 of 64 CPUs (smt 1, llc 2, package 1, numa 12)": the distance class
  // of each chosen CPU from the anchor; "all 4 CPUs" when whole.
  std::string summary(const HostInfo& host) const;
};

// At most `max` CPUs of `cpus` (0: all of them), `anchor` (which must be in
// `cpus`) first. Chosen in this order until `max` is reached: the anchor; one
// CPU at each distance from it, nearest first (SMT sibling, same LLC, same
// package, another node); one CPU of every other LLC group (node, package,
// LLC), lowest-numbered group first; then round robin over the groups, each
// group's CPUs lowest-numbered first.
CpuSample sample_cpus(const HostInfo& host, const std::vector<int>& cpus, int anchor,
                      unsigned max);

}  // namespace kperflab
