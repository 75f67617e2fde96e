// SPDX-License-Identifier: GPL-2.0-only
// A fresh process (fork) set up in a given membarrier registration order,
// with one thread of its mm pinned on a target CPU, driven over a pipe:
// make N membarrier calls, or run N store-buffering litmus trials against
// that thread. Used by the probe's registration-order points and litmus
// cases (orders.cpp) and by the stand-alone reproducer
// (repro_global_skip.cpp), which counts the IPIs from /proc/interrupts.
//
// Why a fresh process: registration cannot be undone, and the probe's own
// mm registered every command at start. Why the priming step: the
// GLOBAL_EXPEDITED skip needs the target CPU's idle task to hold our mm
// lazily as active_mm (README: "GLOBAL_EXPEDITED skips ...").
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/clock.h"
#include "host/sysctl_hold.h"

namespace kperflab::membarrier {

enum class RegOrder {
  none,            // no registration (the litmus control)
  before_threads,  // register while single-threaded, then start the thread
  after_threads,   // start the thread, then register (multi-threaded mm)
};
const char* to_string(RegOrder o);

struct OrderSetup {
  RegOrder order = RegOrder::before_threads;
  std::vector<int> register_cmds;  // REGISTER_* commands, made at the order's point
  int caller_cpu = 0;
  int target_cpu = 1;
  // Run the child on the target CPU first (then move it to the caller's),
  // so that the target's idle task keeps our mm as its lazy active_mm.
  bool prime_target = true;
};

// What the child saw when it was set up.
struct OrderInfo {
  long registrations = -1;  // MEMBARRIER_CMD_GET_REGISTRATIONS, -errno
  int register_errno = 0;   // a REGISTER_* call failed with this (the first)
  std::string setup_error;  // pinning or thread start failed
};

struct CallsResult {
  uint64_t calls = 0;  // successful calls
  int error = 0;       // errno of the first failed call (stops the batch)
  uint64_t ns = 0;     // wall time of the batch
};

// Store buffering (membarrier(2) NOTES): the caller does x = 1; membarrier
// (or only a compiler barrier: cmd 0); r1 = y. The thread on the target CPU
// does y = 1; compiler barrier; r2 = x. r1 == 0 && r2 == 0 is what the
// guarantee forbids. Outcome counts are kept so a zero can be judged: a
// run where the two sides never overlapped (no r1 == r2 == 1) shows
// nothing.
struct LitmusResult {
  uint64_t trials = 0;
  uint64_t forbidden = 0;  // r1 == 0 && r2 == 0
  uint64_t both = 0;       // r1 == 1 && r2 == 1: the two sides overlapped
  uint64_t caller_first = 0, target_first = 0;
  int error = 0;           // errno of a failed membarrier call
  bool capped = false;     // stopped by the time cap before every trial
  uint64_t ns = 0;
};

class OrderChild {
 public:
  // Forks, re-executes this program as the child (a fresh mm: a forked one
  // inherits the parent's registrations) and sets up; throws
  // std::runtime_error when fork, exec, the pipe or the child's set-up
  // fails (the message names what failed). The child calibrates its own
  // clock (the argument is kept for the callers' symmetry).
  OrderChild(const Clock& clk, const OrderSetup& s);
  ~OrderChild();
  OrderChild(const OrderChild&) = delete;
  OrderChild& operator=(const OrderChild&) = delete;

  pid_t pid() const { return pid_; }
  const OrderInfo& info() const { return info_; }

  CallsResult calls(int cmd, uint64_t n);
  // cmd 0: the control (compiler barrier only). Stops after max_ns.
  LitmusResult litmus(int cmd, uint64_t trials, uint64_t max_ns);

 private:
  struct Req;
  struct Ans;
  Ans ask(const Req& r);
  void reap();  // closes the pipes, waits (kills after 2 s)
  // Both sides run at nice -20 (where permitted); with autogroups, nice
  // counts only inside one, so the autogroup is raised for the child's
  // lifetime as for the probe's spinners (workloads/spinner.h).
  std::unique_ptr<AutogroupHold> autogroup_;
  pid_t pid_ = -1;
  int to_ = -1, from_ = -1;
  OrderInfo info_;
};

// A command and a control command in alternating blocks of 50 calls, with
// the target CPU's function-call IPIs (/proc/interrupts) per command. On a
// shared machine the target thread runs only part of the time; the control
// (PRIVATE_EXPEDITED: IPIs every CPU whose current task has our mm)
// samples that time exactly as the command's calls do.
struct Interleaved {
  uint64_t calls = 0, ipis = 0;                  // the command
  uint64_t control_calls = 0, control_ipis = 0;  // the control
  int error = 0;
  bool counted = false;  // /proc/interrupts had the target's count
  bool stopped = false;  // `stop` said so between blocks
  double per_call() const { return calls ? static_cast<double>(ipis) / calls : 0.0; }
  double control_per_call() const {
    return control_calls ? static_cast<double>(control_ipis) / control_calls : 0.0;
  }
};
Interleaved interleave_with_control(OrderChild& c, int cmd, int control_cmd, uint64_t calls,
                                    int target_cpu, const std::function<bool()>& stop = {});

}  // namespace kperflab::membarrier
