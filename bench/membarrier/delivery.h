// SPDX-License-Identifier: GPL-2.0-only
// IPI delivery tracing for the membarrier probe (membarrier.bpf.c): RAII
// owner of the skeleton and its links. Programs are attached only while
// armed, so the syscall-latency passes run without BPF overhead. Only
// callbacks paired with a send of this process are timed; the others are
// counted as foreign (membarrier.h: how each mode pairs them).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "host/bpf_prog_stats.h"
#include "core/histogram.h"

struct membarrier_bpf;
struct bpf_link;

namespace kperflab::membarrier {

struct CpuDelivery {
  int cpu;
  uint64_t received = 0;  // callbacks paired with our sends (IPIs, local runs)
  uint64_t foreign = 0;   // membarrier callbacks of other senders, not timed
  uint64_t negative = 0;  // ours, callback clock < send clock, not timed
  Histogram latency;      // send -> callback entry, ns
};

// What the probe's programs cost another process: ns per getppid() in a
// child process with the programs detached and attached (armed), rounds
// interleaved (median of each).
struct SyscallOverhead {
  double off_ns = 0, on_ns = 0;
  unsigned rounds = 0;
  uint64_t calls_per_round = 0;
};

class DeliveryTracer {
 public:
  // Empty when this host can trace delivery; else why not.
  static std::string unavailable_reason();

  // mode: "auto" (best the kernel accepts), "csd", "send_fentry" or
  // "call_window" (membarrier.h). Throws std::runtime_error naming what the
  // kernel refused.
  explicit DeliveryTracer(const std::string& mode = "auto");
  ~DeliveryTracer();
  DeliveryTracer(const DeliveryTracer&) = delete;
  DeliveryTracer& operator=(const DeliveryTracer&) = delete;

  // Zero the records, attach, start recording the sends of process tgid
  // (0: this process).
  void arm(pid_t tgid = 0);
  void disarm();  // stop recording, detach
  std::vector<CpuDelivery> read() const;

  // The kernel's run time and count of our programs (BPF_ENABLE_STATS on)
  // and the seconds armed, summed over the arm/disarm windows since the
  // last call; clears them (#28: the points' cost, apart from the checks').
  struct Armed {
    bpf::ProgRuns runs;
    double seconds = 0;
  };
  Armed take_armed();

  // Measured once per run: rounds × (off, on) of calls getppid() each, in a
  // child pinned to cpu.
  SyscallOverhead measure_syscall_overhead(int cpu, unsigned rounds, uint64_t calls);

  // For the bundle's parameters: mode, send point, handlers, call window,
  // the attached programs and what the kernel refused.
  nlohmann::json describe() const;
  const std::string& mode() const { return mode_; }

 private:
  struct SkelDeleter {
    void operator()(membarrier_bpf* s) const;
  };
  std::unique_ptr<membarrier_bpf, SkelDeleter> skel_;
  std::vector<::bpf_link*> links_;
  std::string mode_, send_point_, call_window_;
  std::vector<std::string> handlers_;
  std::vector<std::string> not_attachable_;
  std::vector<std::string> programs_;
  int ncpus_ = 0;
  bpf::ProgRuns runs() const;
  bool armed_ = false;
  bpf::ProgRuns runs_at_arm_;
  std::chrono::steady_clock::time_point armed_at_;
  Armed armed_total_;
};

}  // namespace kperflab::membarrier
