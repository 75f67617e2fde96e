// SPDX-License-Identifier: GPL-2.0-only
// perf_event counters around a measured region: hardware cycles and
// instructions when the PMU allows, software counters always (task-clock,
// context-switches, cpu-migrations, page-faults), and the events of
// `kperflab run --perf-stat` (host/perf_events.h). Counters that cannot be
// opened are reported as unavailable with the errno, never as zero.
// With likwid installed and the process started by `likwid-perfctr -m`
// (kperflab run --likwid, host/likwid_run.h), each region is also a LIKWID
// marker region whose counts are read back into the repetition.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "host/perf_events.h"

namespace kperflab {

class Counters {
 public:
  // Counts this thread and the threads it creates afterwards (inherit): so
  // construct it before the probe starts its threads.
  explicit Counters(const std::vector<PerfEventSpec>& perf_stat = {});
  ~Counters();
  Counters(const Counters&) = delete;
  Counters& operator=(const Counters&) = delete;

  // region: the LIKWID marker region (one per repetition, so likwid's
  // results are per repetition too).
  void start(const std::string& region = "kperflab");
  // {"cycles": {"value": N, "scaled": bool} | {"unavailable": "why"}, ...,
  //  "perf_stat": {"<event>": {"value", "enabled_ns", "running_ns", "scaled"}
  //                | {"unavailable": "perf_event_open(<event>): ENOENT ..."}},
  //  "likwid": {"region", "time_s", "count", "events": {name: value}}}
  // perf_stat only with --perf-stat events, likwid only under likwid-perfctr -m.
  nlohmann::json stop();

  // What this host offers, for meta.json: {"perf_event": {...}, "likwid_markers": bool}.
  static nlohmann::json availability();
  // meta.json "counters"."perf_stat": {"events", "pmu" (name or null), "why" (or null)}.
  static nlohmann::json perf_stat_request(const std::vector<PerfEventSpec>& events);

 private:
  struct Event {
    std::string name;
    bool perf_stat = false;
    int fd = -1;
    std::string error;
    uint64_t at_start[3] = {0, 0, 0};  // value, time_enabled, time_running
  };
  nlohmann::json read_event(Event& e) const;
  nlohmann::json likwid_region() const;
  std::vector<Event> events_;
  bool likwid_region_ = false;
  std::string region_;
};

}  // namespace kperflab
