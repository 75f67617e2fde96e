// SPDX-License-Identifier: GPL-2.0-only
// membarrier() commands: names, registration, the syscall, and the timed
// call loops the probe's benchmarks run.
#pragma once

#include <linux/membarrier.h>

#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/histogram.h"

namespace kperflab::membarrier {

// Values from kernel-notes (include/uapi/linux/membarrier.h); defined here
// too so that older userspace headers still build.
enum : int {
  kQuery = 0,
  kGlobal = 1,
  kGlobalExpedited = 2,
  kRegisterGlobalExpedited = 4,
  kPrivateExpedited = 8,
  kRegisterPrivateExpedited = 16,
  kPrivateExpeditedSyncCore = 32,
  kRegisterPrivateExpeditedSyncCore = 64,
  kPrivateExpeditedRseq = 128,
  kRegisterPrivateExpeditedRseq = 256,
  kGetRegistrations = 512,
};
inline constexpr unsigned kFlagCpu = 1;  // MEMBARRIER_CMD_FLAG_CPU

struct Command {
  const char* name;  // metric name component
  int cmd;
  int register_cmd;  // 0: needs no registration
  bool sends_ipis;   // sweeps over targets make sense
};

// The IPI-sending and plain commands, in report order.
const std::vector<Command>& commands();
const Command* find_command(const std::string& name);

long sys_membarrier(int cmd, unsigned flags, int cpu_id);
// MEMBARRIER_CMD_QUERY: bitmask of supported commands, or -errno.
long query();

// Human text for a failed call: "EINVAL (Invalid argument)".
std::string errno_text(int e);

struct CallResult {
  Histogram latency;  // ns per call
  int error = 0;      // errno of the first failed call (measurement stops)
};

// Times `iters` calls back to back on the calling thread.
CallResult time_calls(const Clock& clk, int cmd, unsigned flags, int cpu_id, unsigned iters);

// Latency of one REGISTER_* call in a fresh process (fork) whose mm has
// `threads` running threads (1 = single-threaded mm). Returns ns or -errno.
long long time_register_in_child(const Clock& clk, int register_cmd, unsigned threads);

}  // namespace kperflab::membarrier
