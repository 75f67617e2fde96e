// SPDX-License-Identifier: GPL-2.0-only
// linux-perf as a second opinion on mmap_lock (mmap_lock issue): perf
// sessions attached to this process while a workload runs (overhead), and
// lock:contention_begin/end recorded by perf, paired per thread on one lock
// address (cross-check). perf is optional: every entry says why it cannot
// run instead of failing the probe.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kperflab::mmap_lock {

// The perf binary (PATH, or KPERFLAB_PERF), "" when there is none.
std::string perf_path();

// A perf command attached to this process (-p getpid()), stopped with
// SIGINT as perf's own ^C. Output to `log` (stdout and stderr).
class PerfSession {
 public:
  // argv without the leading "perf"; `ready_file`: a file perf creates once
  // its events are open ("" = wait ready_ms instead). Throws
  // std::runtime_error with perf's own message when it exits early.
  PerfSession(std::vector<std::string> args, std::string log, std::string ready_file,
              int ready_ms = 1000);
  ~PerfSession();
  PerfSession(const PerfSession&) = delete;
  PerfSession& operator=(const PerfSession&) = delete;
  // SIGINT, then up to 20 s for perf to write its data (SIGKILL after).
  // Returns perf's exit status (-1 when killed).
  int stop();

 private:
  pid_t pid_ = -1;
  std::string log_;
};

// Runs perf to completion (e.g. `perf script`), stdout into `out`;
// returns the exit status, or -1 when it could not run or took > timeout_s.
int run_perf(const std::vector<std::string>& args, const std::string& out, int timeout_s = 120);

// Contention on one lock, from `perf script -F tid,time,event,trace --ns`
// of lock:contention_begin/end: each begin on `lock_addr` is paired with the
// same thread's next end on it. Waits in ns.
struct ContentionTotals {
  uint64_t contended = 0;   // paired begin/end
  uint64_t wait_total_ns = 0;
  uint64_t wait_max_ns = 0;
  uint64_t unpaired = 0;    // a begin without end (still waiting at stop) or end without begin
  uint64_t lines = 0;       // contention events of any lock parsed
};
ContentionTotals parse_contention(std::string_view perf_script, uint64_t lock_addr);

// The last path component (perf's message) of a log, for a skip reason.
std::string log_tail(const std::string& path, size_t max_chars = 300);

}  // namespace kperflab::mmap_lock
