// SPDX-License-Identifier: GPL-2.0-only
// A time cap for the sweep points that put k threads to work at once
// (k = 1, 2, 4 ... every CPU). Where the host runs the k threads side by
// side such a point costs about what one thread does; where it cannot (a VM
// whose vCPUs outnumber the host's CPUs, a TCG guest) it costs up to k times
// that: a 64-vCPU lab guest on ~1.3 host CPUs spent 30 s of every cpumask
// repetition on its 64-thread point, and its standard profile ran 2.7x its
// 16-vCPU time (#26). The budgeted profiles cap such a point at a multiple
// of its one-thread time (the probe's `sweep_cap` parameter, 0: no cap):
// past the cap the threads take no more samples, and the point stores the
// samples taken and counts the ones cut (`<point>/check/samples_cut`),
// never a latency for a sample not taken.
#pragma once

#include <chrono>
#include <cstdio>
#include <string>

namespace kperflab {

class PointCap {
 public:
  PointCap() = default;  // no cap
  // seconds <= 0: no cap.
  explicit PointCap(double seconds) : seconds_(seconds) {
    if (seconds_ > 0)
      end_ = std::chrono::steady_clock::now() +
             std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                 std::chrono::duration<double>(seconds_));
  }
  bool capped() const { return seconds_ > 0; }
  double seconds() const { return seconds_; }
  // Outside any timed region: one clock read.
  bool reached() const { return seconds_ > 0 && std::chrono::steady_clock::now() >= end_; }
  // "the point's time cap (1.4 s, sweep_cap)" for a skip's reason.
  std::string text() const {
    char b[64];
    std::snprintf(b, sizeof b, "the point's time cap (%.2g s, sweep_cap)", seconds_);
    return b;
  }

 private:
  double seconds_ = 0;
  std::chrono::steady_clock::time_point end_{};
};

}  // namespace kperflab
