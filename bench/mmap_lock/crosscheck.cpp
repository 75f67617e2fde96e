// SPDX-License-Identifier: GPL-2.0-only
// A second opinion on the probe's waits, kept apart because it needs perf
// (optional, perf_tool.h): our process's mmap_lock waits as our programs
// time them against perf's lock:contention_begin/end on the same lock in
// the same window, once per run.
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>

#include "mmap_lock.h"
#include "perf_tool.h"
#include "core/probe.h"
#include "core/stop.h"
#include "session.h"
#include "tracer.h"
#include "workloads/fault_storm.h"

namespace kperflab::mmap_lock {

namespace fs = std::filesystem;

// Our process's mmap_lock waits, ours (start_locking -> acquire) against
// perf's lock:contention_begin/end on &our_mm->mmap_lock, in the same
// window. Ours includes uncontended (fast path) acquisitions, perf's only
// the slow path: totals differ by the fast path, maxima should agree.
void Session::crosscheck(RunContext&, Repetition& rep) {
  const std::string base = "crosscheck";
  std::string perf = perf_path();
  if (perf.empty()) {
    rep.skip(base, "perf not installed (linux-perf)");
    return;
  }
  if (tracer_->mmap_lock_offset() < 0) {
    rep.skip(base, "no mm_struct.mmap_lock in the kernel's BTF");
    return;
  }
  Point pt{workloads::FaultKind::anon, static_cast<unsigned>(std::max<size_t>(1, cpus_.size() - 1)),
           workloads::WriterKind::mmap_munmap};
  fs::path tmp = fs::temp_directory_path() / ("kperflab-mmap_lock-x-" + std::to_string(getpid()));
  fs::create_directories(tmp);
  std::string data = (tmp / "contention.data").string(), log = (tmp / "perf.log").string(),
              script = (tmp / "script.txt").string();
  try {
    tracer_->attach();
    tracer_->reset();
    PerfSession ps({"record", "-q", "-e", "lock:contention_begin", "-e", "lock:contention_end", "-p",
                    std::to_string(getpid()), "-o", data},
                   log, data);
    tracer_->arm(true);
    auto r = storm(pt, p_["duration_ms"].get<uint64_t>());
    tracer_->arm(false);
    tracer_->detach();
    int rc = ps.stop();
    if (rc != 0) throw std::runtime_error("perf record failed: " + log_tail(log));
    if (run_perf({"script", "-i", data, "-F", "tid,time,event,trace", "--ns"}, script) != 0)
      throw std::runtime_error("perf script failed: " + log_tail(script));
    std::ifstream f(script);
    std::string text((std::istreambuf_iterator<char>(f)), {});
    uint64_t mm = tracer_->our_mm();
    if (!mm) throw std::runtime_error("our process took no mmap_lock in the window");
    ContentionTotals t = parse_contention(text, mm + static_cast<uint64_t>(tracer_->mmap_lock_offset()));
    Counts c = tracer_->counts();
    const auto& rd = c.at(KPL_ML_OURS, KPL_ML_READ);
    const auto& wr = c.at(KPL_ML_OURS, KPL_ML_WRITE);
    json l = {{"workload", pt.name()}, {"better", "none"}};
    auto put = [&](const std::string& n, double v, const char* unit, json extra = json::object()) {
      json x = l;
      x.update(extra);
      rep.scalar(base + "/" + n, v, unit, x);
    };
    put("ours/waits", double(rd.acquired + wr.acquired), "locks",
        {{"source", "mmap_lock:start_locking -> acquire_returned (every blocking lock)"}});
    put("ours/wait_total_ns", double(rd.wait_ns_total + wr.wait_ns_total), "ns");
    put("ours/wait_max_ns", double(std::max(rd.wait_ns_max, wr.wait_ns_max)), "ns");
    put("perf/contended", double(t.contended), "locks",
        {{"source", "perf record lock:contention_begin/end on &mm->mmap_lock (slow path)"},
         {"unpaired", t.unpaired},
         {"events", t.lines}});
    put("perf/wait_total_ns", double(t.wait_total_ns), "ns");
    put("perf/wait_max_ns", double(t.wait_max_ns), "ns");
    if (r.seconds <= 0) rep.skip(base + "/workload", "no time elapsed");
  } catch (const std::exception& e) {
    tracer_->arm(false);
    tracer_->detach();
    rep.skip(base, e.what());
  }
  std::error_code ec;
  fs::remove_all(tmp, ec);
}

}  // namespace kperflab::mmap_lock
