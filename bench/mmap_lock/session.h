// SPDX-License-Identifier: GPL-2.0-only
// One run of the mmap_lock probe, declared once for the files that define
// its parts: the sweep and its storms (storms.cpp), what tracing costs
// (overhead.cpp), the comparison with perf (crosscheck.cpp), and set-up
// and the repetition's order (mmap_lock.cpp). They share the tracer, the
// storm CPUs and the storm that every part drives.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/probe.h"
#include "tracer.h"
#include "workloads/fault_storm.h"

namespace kperflab::mmap_lock {

struct Point {
  workloads::FaultKind kind;
  unsigned threads;
  workloads::WriterKind writer;
  std::string name() const {
    return std::string(workloads::to_string(kind)) + "/threads=" + std::to_string(threads) +
           "/writer=" + std::string(workloads::to_string(writer));
  }
};

class Session : public ProbeSession {
 public:
  Session(RunContext& ctx, const json& p);

  unsigned steps() const override {
    return static_cast<unsigned>(points_.size()) + check_steps();
  }
  unsigned check_steps() const override {
    return (p_["overhead"].get<bool>() ? 1 : 0) + (p_["crosscheck"].get<bool>() ? 1 : 0) +
           (p_["bystander_rounds"].get<int>() > 0 ? 1 : 0);
  }

  void run_repetition(RunContext& ctx, Repetition& rep) override;

 private:
  // ---- storms.cpp: the sweep points and the storm every part runs --------
  std::vector<unsigned> thread_counts() const;
  workloads::FaultStormConfig storm_config(const Point& pt) const;
  // Runs the storm of `pt` for ms; throws on a workload error. Its setup
  // (the file's page cache, cow's first write) is done before `at_go` runs
  // and the threads go: a tracer armed there counts the storm only.
  workloads::FaultStormResult storm(const Point& pt, uint64_t ms,
                                    const std::function<void()>& at_go = {});
  void measure_point(RunContext&, Repetition& rep, const Point& pt);
  void per_vma(Repetition& rep, const std::string& base, const json& labels,
               const std::map<std::string, uint64_t>& before,
               const std::map<std::string, uint64_t>& after, uint64_t faults);

  // ---- overhead.cpp: what tracing costs us and the host's others ---------
  void overhead(RunContext& ctx, Repetition& rep);
  void bystander(RunContext& ctx, Repetition& rep);

  // ---- crosscheck.cpp: our waits against perf's -------------------------
  void crosscheck(RunContext&, Repetition& rep);

  json p_;
  std::vector<int> cpus_;
  std::unique_ptr<Tracer> tracer_;
  std::vector<Point> points_;
  uint64_t mem_budget_ = 0;   // bytes a storm may hold (0: unknown, no cap)
  bpf::ProgRuns point_runs_;  // this repetition's points, per program
  double point_seconds_ = 0;
};

}  // namespace kperflab::mmap_lock
