// SPDX-License-Identifier: GPL-2.0-only
// /dev/kperflab from user space: RAII fd, version check, the ioctls as
// calls that return kperflab histograms.
#pragma once

#include <cstdint>
#include <string>

#include "core/histogram.h"
#include "kperflab/uapi.h"

namespace kperflab {

class KmodDevice {
 public:
  // "" when /dev/kperflab opens and speaks our UAPI version; else why not.
  static std::string unavailable_reason();

  KmodDevice();  // throws std::runtime_error naming the problem
  ~KmodDevice();
  KmodDevice(const KmodDevice&) = delete;
  KmodDevice& operator=(const KmodDevice&) = delete;

  const kpl_info& info() const { return info_; }
  // For feature-specific ioctls kept beside their probe (bench/notifier).
  int fd() const { return fd_; }

  struct IpiResult {
    Histogram hist, hist2;  // see enum kpl_ipi_pattern for what each holds
    uint64_t done = 0;      // samples attempted: recorded + the counts below
    uint64_t failed = 0, negative = 0, after_return = 0, migrated = 0;
    uint64_t invalid() const { return failed + negative + after_return + migrated; }
  };
  struct IpiParams {
    uint32_t pattern = KPL_IPI_SINGLE;
    int src_cpu = 0, dst_cpu = 1;
    uint32_t nr_targets = 0, samples = 1000, max_ms = 1000, handler_delay_ns = 0;
    uint32_t target = KPL_IPI_TARGET_IDLE;
  };
  // Throws std::system_error with the errno on failure (EBUSY: another
  // process is measuring; its message says so).
  IpiResult ipi(const IpiParams& p) const;
  // One native cpumask batch; returns the filled request.
  kpl_cpumask_req cpumask(uint32_t op, uint64_t n, uint32_t cpu, uint32_t density) const;

 // Throws std::system_error for an ioctl's errno, with what it means here.
  [[noreturn]] static void throw_errno(int err, const std::string& what);

 private:
  int fd_ = -1;
  kpl_info info_{};
};

}  // namespace kperflab
