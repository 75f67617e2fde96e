// SPDX-License-Identifier: GPL-2.0-only
// The membarrier probe's sweep points, built from its parameters and the
// host topology.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "host/sysinfo.h"
#include "workloads/spinner.h"

namespace kperflab::membarrier {

struct Point {
  std::string name;      // metric prefix, e.g. "private_expedited/targets=2/spin"
  nlohmann::json labels;  // the same as typed values
  int cmd = 0;
  unsigned flags = 0;
  int cpu_id = 0;         // with MEMBARRIER_CMD_FLAG_CPU
  int caller_cpu = 0;
  unsigned callers = 1;   // > 1: concurrent callers on distinct CPUs
  std::vector<workloads::Spinners::Placement> threads;  // of this mm
  int foreign_cpu = -1;   // a CPU made to run another process's mm
  std::vector<int> expected;  // CPUs that should get an IPI per call
  unsigned iters = 0;
  bool delivery = false;  // also trace IPI delivery (BPF) for this point
  bool per_cpu = false;   // store per-target-CPU delivery histograms
};

struct Skipped {
  std::string name, reason;
};

// Target counts 0, 1, 2, 4, ... and all other online CPUs. With max > 0 and
// more counts than that (many CPUs, issue #26), at most max of them: 0, 1
// and `others` always, the rest evenly spaced among the powers of two
// between (63 others, max 6: 0 1 2 8 32 63).
std::vector<unsigned> target_counts(unsigned others, unsigned max = 0);

// Every point of one repetition; points the host cannot have (no CPU at a
// topology distance, too few CPUs for half-and-half) are listed in skipped.
std::vector<Point> build_points(const nlohmann::json& params, const HostInfo& host,
                                long supported_mask, std::vector<Skipped>& skipped);

}  // namespace kperflab::membarrier
