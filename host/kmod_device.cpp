// SPDX-License-Identifier: GPL-2.0-only
#include <fcntl.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <system_error>
#include <vector>

#include "host/kmod_device.h"
#include "kperflab/hist.h"

namespace kperflab {

std::string KmodDevice::unavailable_reason() {
  if (access(KPL_DEVICE, F_OK) != 0)
    return std::string("kperflab.ko not loaded (") + KPL_DEVICE + " absent)";
  try {
    KmodDevice d;
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

KmodDevice::KmodDevice() {
  fd_ = open(KPL_DEVICE, O_RDWR | O_CLOEXEC);
  if (fd_ < 0)
    throw std::runtime_error(std::string("open ") + KPL_DEVICE + ": " + std::strerror(errno));
  info_.size = sizeof info_;
  info_.version = KPL_UAPI_VERSION;
  if (ioctl(fd_, KPL_IOC_INFO, &info_) != 0) {
    int e = errno;
    close(fd_);
    throw std::runtime_error(std::string("KPL_IOC_INFO: ") + std::strerror(e) +
                             " (a kperflab.ko of another UAPI version?)");
  }
}

KmodDevice::~KmodDevice() {
  if (fd_ >= 0) close(fd_);
}

void KmodDevice::throw_errno(int err, const std::string& what) {
  std::string why = what;
  switch (err) {
    case EBUSY: why += " (another process is measuring with kperflab.ko; one at a time)"; break;
    case EPERM: why += " (needs CAP_PERFMON, or CAP_SYS_ADMIN for perturbing settings)"; break;
    case ENXIO: why += " (a CPU of the measurement went offline)"; break;
    case ETIMEDOUT:
      why += " (an irq_work did not run within 100 ms, or a kthread of kperflab.ko could not "
             "run on its CPU within the time cap + 2 s: an RT task owns that CPU? The module "
             "gave the request up)";
      break;
    case EOPNOTSUPP: why += " (not supported by this kernel's build)"; break;
    default: break;
  }
  throw std::system_error(err, std::generic_category(), why);
}

KmodDevice::IpiResult KmodDevice::ipi(const IpiParams& p) const {
  const uint32_t len = KPL_HIST_LEN_1S;  // IPIs slower than 1 s are overflow
  std::vector<__u64> h1(len), h2(len);
  kpl_ipi_req r{};
  r.size = sizeof r;
  r.version = KPL_UAPI_VERSION;
  r.pattern = p.pattern;
  r.src_cpu = p.src_cpu;
  r.dst_cpu = p.dst_cpu;
  r.nr_targets = p.nr_targets;
  r.samples = p.samples;
  r.max_ms = p.max_ms;
  r.handler_delay_ns = p.handler_delay_ns;
  r.target = p.target;
  r.hist_len = len;
  r.hist = reinterpret_cast<uintptr_t>(h1.data());
  r.hist2 = reinterpret_cast<uintptr_t>(h2.data());
  if (ioctl(fd_, KPL_IOC_IPI, &r) != 0) throw_errno(errno, "KPL_IOC_IPI");
  IpiResult out;
  out.hist.merge_truncated(std::span<const __u64>(h1), r.overflow);
  out.hist2.merge_truncated(std::span<const __u64>(h2), r.overflow2);
  out.done = r.done;
  out.failed = r.failed;
  out.negative = r.negative;
  out.after_return = r.after_return;
  out.migrated = r.migrated;
  return out;
}

kpl_cpumask_req KmodDevice::cpumask(uint32_t op, uint64_t n, uint32_t cpu,
                                    uint32_t density) const {
  kpl_cpumask_req r{};
  r.size = sizeof r;
  r.version = KPL_UAPI_VERSION;
  r.op = op;
  r.n = n;
  r.cpu = cpu;
  r.density = density;
  if (ioctl(fd_, KPL_IOC_CPUMASK, &r) != 0) throw_errno(errno, "KPL_IOC_CPUMASK");
  return r;
}

}  // namespace kperflab
