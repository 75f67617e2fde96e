// SPDX-License-Identifier: GPL-2.0-only
// Results of the membarrier probe's points and their conversion into
// metrics (names: <point>/latency, <point>/delivery[/<distance>|/cpu=N],
// <point>/ipis_per_call, /missed_ipi_fraction, /unexpected_ipi_fraction,
// /foreign_ipis, /negative_deltas; per repetition delivery/foreign_ipis,
// delivery/negative_deltas) and the tables `kperflab show` prints.
#pragma once

#include <atomic>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "delivery.h"
#include "core/point_cap.h"
#include "points.h"
#include "core/probe.h"

namespace kperflab::membarrier {

struct Delivery {
  uint64_t calls = 0;  // successful membarrier() calls while armed
  std::vector<CpuDelivery> cpus;
};

// Below this share of a window's wall time on their CPUs (the timed calls,
// the traced calls), spinning targets are reported as preempted (a note in
// the bundle). Near 1 because the share is of time and quantiles are of
// calls: with no-IPI calls r times shorter (r ~ 18 on a 2-vCPU VM), an off
// share x leaves x*r/(1-x+x*r) of the calls without an IPI (2/3 at x = 0.1).
// Not 1: with IRQ_TIME_ACCOUNTING the IPIs' own handler time is not the
// spinner's (a quiet 2-vCPU VM: 0.990-1.000 per window).
inline constexpr double kTargetsOnCpuFloor = 0.98;

struct PointResult {
  std::mutex lock;
  Histogram latency;
  int error = 0;
  std::string setup_error;
  bool interrupted = false;  // ^C inside the point: its calls are discarded
  std::optional<Delivery> delivery;
  // Smallest share of the point's wall time (timed calls, then the traced
  // ones) a spinning target of ours was on its CPU, over callers; unset for
  // points without spinners.
  std::optional<double> targets_on_cpu;
  // Concurrent callers (core/point_cap.h): the cap, set at the first call of
  // any caller; the calls each caller skipped past it (every caller makes
  // one at least). cap_s <= 0: the point has no cap.
  double cap_s = 0;
  std::once_flag cap_once;
  std::optional<PointCap> cap;
  std::atomic<uint64_t> calls_cut{0};
  double wall_s = 0;  // the first caller's timed calls, start to end
};

struct RegResult {
  int register_cmd = 0;
  unsigned threads = 1;
  std::string name;
  Histogram latency;
  int error = 0;
  bool interrupted = false;  // ^C before every sample was taken: discarded
};

// Arms the tracer, makes `iters` calls of the point's command, disarms.
// Runs iters calls with the tracer armed; nullopt when ^C stopped it early
// (a partial count would read as missed IPIs).
std::optional<Delivery> trace_delivery(DeliveryTracer& t, const Point& p, unsigned iters);

class Report {
 public:
  Report(const HostInfo& host, Repetition& rep) : host_(host), rep_(rep) {}
  void point(const Point& p, const PointResult& r);
  void registration(const RegResult& r);
  // A point measured in another process (orders.cpp): IPI delivery only,
  // no latency pass. Returns its missed_ipi_fraction (-1: none computed).
  double delivery_point(const Point& p, const Delivery& d);
  // A line for the "membarrier notes" table of `kperflab show`.
  void note(std::string text) { notes_.push_back(std::move(text)); }
  // Writes the repetition's delivery totals and the tables into it.
  void finish();

 private:
  void delivery(const Point& p, const Delivery& d, nlohmann::json& row);
  void explain_global_misses();
  const HostInfo& host_;
  Repetition& rep_;
  nlohmann::json rows_ = nlohmann::json::array();
  nlohmann::json cpu_rows_ = nlohmann::json::array();  // per point and CPU
  std::vector<std::string> notes_;
  std::map<std::string, double> missed_;  // point -> missed_ipi_fraction
  std::vector<std::pair<std::string, double>> preempted_;  // point -> targets_on_cpu
  bool traced_ = false;
  uint64_t foreign_ = 0, negative_ = 0;  // over every traced point
};

// Stores the syscall-overhead figure (delivery/syscall_overhead/...) in rep.
void report_overhead(Repetition& rep, const SyscallOverhead& o, const std::string& mode);

// Runs the registered Google Benchmarks; returns their JSON report.
std::string run_gbench(RunContext& ctx);
// Appends one repetition's benchmarks (with repetition_index) to runs and
// keeps the context with the kernel provenance added.
void merge_gbench(nlohmann::json& runs, nlohmann::json& context, const std::string& report,
                  RunContext& ctx);

}  // namespace kperflab::membarrier
