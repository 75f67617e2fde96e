// SPDX-License-Identifier: GPL-2.0-only
// KPL_IOC_NOTIFIER from user space: one run of the module's readers over
// notifiers on a buffer of ours while an Invalidator (gated on the
// module's ready word) works the same buffer.
#pragma once

#include <array>
#include <string>
#include <vector>

#include "core/histogram.h"
#include "host/kmod_device.h"
#include "kperflab/hist.h"
#include "kperflab/uapi.h"
#include "workloads/invalidator.h"

namespace kperflab::notifier {

struct Point {
  workloads::InvalKind kind = workloads::InvalKind::madv_dontneed;
  double rate_hz = 0;   // 0: no invalidations; < 0: back to back
  uint32_t work_ns = 2000, readers = 1, notifiers = 1, window_ms = 300;
  int inval_threads = 1;
  uint32_t work_kind = KPL_NT_WORK_BUSY;  // KPL_NT_WORK_HMM: hmm_range_fault, then work_ns
};

struct Result {
  kpl_nt_req req{};
  Histogram retries, begin_wait, commit, invalidate;  // module side
  Histogram op_latency;  // invalidating side, one per operation
  uint64_t ops = 0;
};

class NtDevice {
 public:
  // "" when /dev/kperflab opens and has KPL_FEAT_NOTIFIER; else why not.
  static std::string unavailable_reason();
  NtDevice();  // throws std::runtime_error naming the problem
  // "" when the module can run KPL_NT_WORK_HMM readers; else why not.
  std::string hmm_unavailable_reason() const;
  ~NtDevice();
  NtDevice(const NtDevice&) = delete;
  NtDevice& operator=(const NtDevice&) = delete;

  // Readers on reader_cpus (wrapped), invalidator threads on inval_cpu.
  Result run(const Point& p, const std::vector<int>& reader_cpus, int inval_cpu) const;

 private:
  KmodDevice dev_;  // open, UAPI version check
};

}  // namespace kperflab::notifier
