// SPDX-License-Identifier: GPL-2.0-only
// The create_release thread sweep, apart because it is the probe's only
// many-thread part: k threads pinned to k CPUs creating and releasing
// masks at once, each point capped when the host cannot run them side by
// side (core/point_cap.h) and stopped before RCU's deferred frees run the
// host out of memory.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <latch>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/point_cap.h"
#include "core/probe.h"
#include "core/stop.h"
#include "session.h"
#include "workloads/fault_storm.h"
#include "workloads/spinner.h"

namespace kperflab::cpumask {

void Session::concurrency(RunContext& ctx, Repetition& rep) {
  auto cpus = ctx.host().online_cpus();
  std::vector<unsigned> counts;
  for (auto& t : p_["threads"])  // each 1..online CPUs (checked by specs())
    counts.push_back(std::min(t.get<unsigned>(), static_cast<unsigned>(cpus.size())));
  if (counts.empty()) {
    for (unsigned k = 1; k < cpus.size(); k *= 2) counts.push_back(k);
    counts.push_back(static_cast<unsigned>(cpus.size()));
  }
  const Setting s{0, KPL_CM_EMPTY};
  uint64_t n = calibrated("create_release", s);
  // Released masks are freed after RCU grace periods: N CPUs creating and
  // releasing back to back can outrun them (a 64-vCPU TCG guest's
  // unreclaimable slab reached 1.2 GB and the OOM killer took kperflab).
  // The sweep stops when the memory available falls below half of what it
  // was when the sweep began, or below 128 MiB.
  const uint64_t avail0 = workloads::mem_available_bytes();
  const uint64_t floor = std::max<uint64_t>(avail0 / 2, uint64_t{128} << 20);
  std::atomic<bool> low{false};
  std::string low_text;
  // core/point_cap.h: a point ends at sweep_cap x one thread's time, the
  // longer of the 1-thread point's wall time and its estimate (samples
  // batches and their baselines).
  const int samples = p_["samples"].get<int>();
  const double cap_x = p_.value("sweep_cap", 0.0);
  double one_thread_s = samples * 1.7 * p_["sample_ms"].get<double>() / 1000;
  for (unsigned k : counts) {
    if (stop_requested()) break;
    const std::string name = "create_release/threads=" + std::to_string(k);
    if (low.load()) {
      rep.skip(name + "/cost", low_text);
      continue;
    }
    ctx.progress().step(name);
    Histogram h;
    std::mutex lock;
    // Start together, waiting asleep: threads spinning for the others took
    // the vCPUs the rest needed to start and pin (a 64-vCPU TCG guest:
    // 21 s a repetition before the first sample).
    std::latch ready(k);
    std::atomic<uint64_t> taken{0};
    std::string error;
    std::vector<std::thread> th;
    const auto t0 = std::chrono::steady_clock::now();
    std::optional<PointCap> cap;  // set when every thread is on its CPU
    std::once_flag cap_once;
    for (unsigned t = 0; t < k; ++t)
      th.emplace_back([&, t] {
        bool arrived = false;
        try {
          workloads::pin_self(cpus[t]);
          arrived = true;
          ready.arrive_and_wait();
          std::call_once(cap_once, [&] {
            if (k > 1 && cap_x > 0) cap.emplace(cap_x * one_thread_s);
            else cap.emplace();
          });
          Histogram mine;
          // Every thread takes one sample at least: each CPU is in the point.
          for (int i = 0; i < samples && !stop_requested() && !low.load() &&
                          (i == 0 || !cap->reached());
               ++i) {
            if (t == 0 && avail0) {
              uint64_t a = workloads::mem_available_bytes();
              if (a && a < floor) {
                std::lock_guard<std::mutex> g(lock);
                low_text = "stopped: MemAvailable fell to " + std::to_string(a >> 20) +
                           " MiB (from " + std::to_string(avail0 >> 20) +
                           " MiB): released cpumasks wait for RCU grace periods faster than "
                           "they pass";
                low.store(true);
                break;
              }
            }
            if (auto ps = sample("create_release", n, s))
              mine.record(static_cast<uint64_t>(*ps + 0.5));
            taken.fetch_add(1);
          }
          std::lock_guard<std::mutex> g(lock);
          h.merge(mine);
        } catch (const std::exception& e) {
          std::lock_guard<std::mutex> g(lock);
          error = e.what();
          if (!arrived) ready.count_down();  // the others do not wait for this one
        }
      });
    for (auto& t : th) t.join();
    const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (k == 1 && error.empty() && !low.load()) one_thread_s = std::max(one_thread_s, wall);
    const std::string metric = name + "/cost";
    const uint64_t planned = uint64_t{k} * static_cast<uint64_t>(samples);
    const uint64_t cut = planned - std::min(planned, taken.load());
    if (low.load())
      rep.skip(metric, low_text);
    else if (stop_requested())  // some thread stopped before its last sample
      rep.skip(metric, "interrupted (^C) before every thread took its samples (discarded)");
    else if (!error.empty())
      rep.skip(metric, error);
    else if (h.empty())
      rep.skip(metric, "no sample before " + cap->text() + ": the host does not run " +
                           std::to_string(k) + " threads side by side");
    else
      rep.histogram(metric, h, "ps", {{"op", "create_release"}, {"threads", k}, {"n", n}});
    if (cap && cap->capped() && !h.empty())
      rep.scalar(name + "/check/samples_cut", static_cast<double>(cut), "samples",
                 {{"planned", planned}, {"cap_s", cap->seconds()}, {"better", "none"}});
  }
}

}  // namespace kperflab::cpumask
