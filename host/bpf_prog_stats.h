// SPDX-License-Identifier: GPL-2.0-only
// What our BPF programs cost while attached (#28): the kernel's own run
// statistics (bpf_prog_info run_time_ns and run_cnt), which it keeps only
// while statistics are enabled. BPF_ENABLE_STATS (5.8+) enables them for as
// long as the fd it returns is open: reference counted with other users,
// and off again when we close it or die, so no sysctl is left changed
// (kernel.bpf_stats_enabled is the same switch, and needs a restore record
// when we write it). Header-only: the probes that use it link libbpf.
#pragma once

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <map>
#include <string>

#include "core/probe.h"
#include "core/stop.h"

namespace kperflab::bpf {

class RunStats {
 public:
  // Enables the statistics; enabled() false (and why()) when the kernel
  // refuses (before 5.8, or not permitted).
  RunStats() {
    fd_ = bpf_enable_stats(BPF_STATS_RUN_TIME);
    if (fd_ < 0) why_ = std::string("BPF_ENABLE_STATS: ") + std::strerror(errno);
  }
  ~RunStats() {
    if (fd_ >= 0) close(fd_);
  }
  RunStats(const RunStats&) = delete;
  RunStats& operator=(const RunStats&) = delete;
  bool enabled() const { return fd_ >= 0; }
  const std::string& why() const { return why_; }

 private:
  int fd_ = -1;
  std::string why_;
};

struct ProgRun {
  uint64_t run_time_ns = 0, run_cnt = 0;
};

// The kernel's counts for one program; all zero when unknown.
inline ProgRun prog_run(const bpf_program* p) {
  ProgRun r;
  bpf_prog_info info{};
  uint32_t len = sizeof info;
  int fd = bpf_program__fd(p);
  if (fd >= 0 && bpf_obj_get_info_by_fd(fd, &info, &len) == 0) {
    r.run_time_ns = info.run_time_ns;
    r.run_cnt = info.run_cnt;
  }
  return r;
}

// Counts of each named program, to subtract one snapshot from another.
using ProgRuns = std::map<std::string, ProgRun>;

// The counts of every program of obj that was loaded, by name.
inline ProgRuns loaded_runs(const bpf_object* obj) {
  ProgRuns r;
  bpf_program* p;
  bpf_object__for_each_program(p, obj) {
    if (bpf_program__autoload(p)) r[bpf_program__name(p)] = prog_run(p);
  }
  return r;
}

inline ProgRuns operator-(const ProgRuns& after, const ProgRuns& before) {
  ProgRuns d;
  for (auto& [name, a] : after) {
    auto it = before.find(name);
    ProgRun b = it == before.end() ? ProgRun{} : it->second;
    d[name] = {a.run_time_ns - b.run_time_ns, a.run_cnt - b.run_cnt};
  }
  return d;
}

// Records what our programs cost while armed (#28): per program the
// kernel's ns per run (effect/bpf/<prog>/ns_per_run), and all of them
// together as CPUs' worth of time over the `seconds` they were armed
// (effect/bpf/cpu_share). Without statistics, a skip saying why.
inline void record_program_costs(Repetition& rep, const RunStats& stats, const ProgRuns& runs,
                                 double seconds) {
  if (!stats.enabled()) {
    rep.skip("effect/bpf", stats.why());
    return;
  }
  uint64_t total_ns = 0, total_runs = 0;
  for (auto& [prog, d] : runs) {
    total_ns += d.run_time_ns;
    total_runs += d.run_cnt;
    if (!d.run_cnt) continue;
    rep.scalar("effect/bpf/" + prog + "/ns_per_run",
               static_cast<double>(d.run_time_ns) / static_cast<double>(d.run_cnt), "ns",
               {{"runs", d.run_cnt}, {"run_time_ns", d.run_time_ns}, {"better", "lower"}});
  }
  if (seconds > 0)
    rep.scalar("effect/bpf/cpu_share", static_cast<double>(total_ns) / 1e9 / seconds, "CPUs",
               {{"runs", total_runs}, {"run_time_ns", total_ns}, {"seconds", seconds},
                {"better", "lower"}});
}

// A repetition's points with the kernel's statistics on: measure(point)
// for each (a progress step each; ^C stops before the next), which adds
// its armed windows to `runs` and `seconds`; then what the programs cost
// over them (record_program_costs).
template <class Points, class Measure>
void run_points_costed(RunContext& ctx, Repetition& rep, const Points& points, ProgRuns& runs,
                       double& seconds, Measure&& measure) {
  RunStats stats;
  runs.clear();
  seconds = 0;
  for (auto& pt : points) {
    if (stop_requested()) break;
    ctx.progress().step(pt.name());
    measure(pt);
  }
  record_program_costs(rep, stats, runs, seconds);
}

// Adds after - before of each program into `into` (a probe's armed windows).
inline void add_runs(ProgRuns& into, const ProgRuns& after, const ProgRuns& before) {
  for (auto& [prog, d] : after - before) {
    into[prog].run_time_ns += d.run_time_ns;
    into[prog].run_cnt += d.run_cnt;
  }
}

}  // namespace kperflab::bpf
