// SPDX-License-Identifier: GPL-2.0-only
// perf_event counters around a measured region: hardware cycles and
// instructions when the PMU allows, software counters always (task-clock,
// context-switches, cpu-migrations, page-faults). Counters that cannot be
// opened are reported as unavailable with the errno, never as zero.
// With likwid installed, the region is also a LIKWID marker region
// ("kperflab") so `likwid-perfctr -m` can measure it.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace kperflab {

class Counters {
 public:
  // Counts this thread and the threads it creates afterwards (inherit).
  Counters();
  ~Counters();
  Counters(const Counters&) = delete;
  Counters& operator=(const Counters&) = delete;

  void start();
  // {"cycles": {"value": N, "scaled": bool} | {"unavailable": "why"}, ...}
  nlohmann::json stop();

  // What this host offers, for meta.json: {"perf_event": {...}, "likwid": bool}.
  static nlohmann::json availability();

 private:
  struct Event {
    std::string name;
    int fd = -1;
    std::string error;
  };
  std::vector<Event> events_;
  bool likwid_region_ = false;
};

}  // namespace kperflab
