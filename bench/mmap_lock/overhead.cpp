// SPDX-License-Identifier: GPL-2.0-only
// What tracing mmap_lock costs, kept apart from the sweep it validates:
// our own storm's fault and writer throughput with nothing attached, with
// our programs and with perf on the same events (interleaved rounds, once
// per run), and what a bystander process that is not ours pays while our
// programs are attached (#28).
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>

#include "perf_tool.h"
#include "core/probe.h"
#include "core/stop.h"
#include "session.h"
#include "tracer.h"
#include "workloads/bystander.h"
#include "workloads/fault_storm.h"

namespace kperflab::mmap_lock {

namespace fs = std::filesystem;

// ---- overhead ----------------------------------------------------------

// Fault (and writer) throughput of one storm with nothing attached, with
// ours, and with perf on the same events: rounds interleave the
// configurations so drift hits them alike; medians per configuration.
void Session::overhead(RunContext& ctx, Repetition& rep) {
  const Point pts[] = {
      {workloads::FaultKind::anon, static_cast<unsigned>(cpus_.size()), workloads::WriterKind::none},
      {workloads::FaultKind::anon, static_cast<unsigned>(std::max<size_t>(1, cpus_.size() - 1)),
       workloads::WriterKind::mmap_munmap}};
  std::string perf = perf_path();
  std::vector<std::string> configs = {"none", "ours"};
  std::map<std::string, std::string> refused;
  if (perf.empty()) {
    refused["perf"] = "perf not installed (linux-perf)";
  } else {
    configs.push_back("perf_record_mmap_lock");
    configs.push_back("perf_trace_mmap_lock");
    configs.push_back("perf_record_contention");
  }
  fs::path tmp = fs::temp_directory_path() / ("kperflab-mmap_lock-" + std::to_string(getpid()));
  fs::create_directories(tmp);
  const uint64_t ms = p_["duration_ms"].get<uint64_t>();
  const std::string pid = std::to_string(getpid());
  for (const Point& pt : pts) {
    std::map<std::string, std::vector<double>> faults, writer;
    for (int round = 0; round < p_["overhead_rounds"].get<int>() && !stop_requested(); ++round)
      for (const std::string& cfg : configs) {
        if (refused.count(cfg) || stop_requested()) continue;
        std::unique_ptr<PerfSession> ps;
        try {
          std::string data = (tmp / (cfg + ".data")).string(), log = (tmp / (cfg + ".log")).string();
          fs::remove(data);
          if (cfg == "ours") {
            tracer_->attach();
            tracer_->arm(true);
          } else {
            tracer_->detach();  // the tracepoints' static key off
          }
          if (cfg == "perf_record_mmap_lock")
            ps = std::make_unique<PerfSession>(
                std::vector<std::string>{"record", "-q", "-e", "mmap_lock:mmap_lock_start_locking",
                                         "-e", "mmap_lock:mmap_lock_acquire_returned", "-e",
                                         "mmap_lock:mmap_lock_released", "-p", pid, "-o", data},
                log, data);
          else if (cfg == "perf_record_contention")
            ps = std::make_unique<PerfSession>(
                std::vector<std::string>{"record", "-q", "-e", "lock:contention_begin", "-e",
                                         "lock:contention_end", "-p", pid, "-o", data},
                log, data);
          else if (cfg == "perf_trace_mmap_lock")
            ps = std::make_unique<PerfSession>(
                std::vector<std::string>{"trace", "--no-syscalls", "-e", "mmap_lock:*", "-p", pid,
                                         "-o", data},
                log, "", 1000);
          auto r = storm(pt, ms);
          tracer_->arm(false);
          tracer_->detach();
          if (ps) ps->stop();
          ps.reset();
          if (r.seconds > 0) {
            faults[cfg].push_back((r.minflt + r.majflt) / r.seconds);
            writer[cfg].push_back(r.writer_ops / r.seconds);
          }
        } catch (const std::exception& e) {
          tracer_->arm(false);
          tracer_->detach();
          refused[cfg] = e.what();
        }
      }
    std::string base = "overhead/" + pt.name();
    double none_f = workloads::median_of(faults["none"]);
    double none_w = workloads::median_of(writer["none"]);
    for (const std::string& cfg : configs) {
      if (refused.count(cfg)) {
        rep.skip(base + "/" + cfg, refused[cfg]);
        continue;
      }
      if (faults[cfg].empty()) continue;
      double f = workloads::median_of(faults[cfg]);
      json l = {{"config", cfg}, {"rounds", faults[cfg].size()}, {"better", "higher"}};
      rep.scalar(base + "/" + cfg + "/faults_per_s", f, "faults/s", l);
      if (cfg != "none" && none_f > 0)
        rep.scalar(base + "/" + cfg + "/faults_ratio", f / none_f, "ratio", l);
      if (pt.writer != workloads::WriterKind::none) {
        double w = workloads::median_of(writer[cfg]);
        rep.scalar(base + "/" + cfg + "/writer_ops_per_s", w, "ops/s", l);
        if (cfg != "none" && none_w > 0)
          rep.scalar(base + "/" + cfg + "/writer_ratio", w / none_w, "ratio", l);
      }
    }
    if (refused.count("perf")) rep.skip(base + "/perf", refused["perf"]);
  }
  std::error_code ec;
  fs::remove_all(tmp, ec);
  (void)ctx;
}

// ---- what observing costs (#28) ----------------------------------------

// A process that is not ours faulting on the last CPU: its round rate
// with our programs attached and armed, and detached, in interleaved
// windows; the ratio is what the host's other processes pay while a
// point measures (on the memcg_path flavour, the path formatting of
// every mmap_lock event).
void Session::bystander(RunContext& ctx, Repetition& rep) {
  double ratio = workloads::record_bystander(
      rep, cpus_.back(), p_["bystander_rounds"].get<int>(),
      p_["bystander_window_ms"].get<uint64_t>(),
      [&](bool on) {
        tracer_->arm(false);
        if (on) {
          tracer_->reset();
          tracer_->attach();
          tracer_->arm(true);
        } else {
          tracer_->detach();
        }
      },
      [] { return stop_requested(); }, {{"flavour", to_string(tracer_->flav())}});
  if (tracer_->flav() == Flavour::memcg_path && std::isfinite(ratio)) {
    char b[64];
    std::snprintf(b, sizeof b, "%.3fx", ratio);
    ctx.progress().note(std::string("mmap_lock: this kernel formats the memcg path of every "
                                    "mmap_lock event while we are attached; a bystander "
                                    "process ran at ") + b + " its rate meanwhile");
  }
}

}  // namespace kperflab::mmap_lock
