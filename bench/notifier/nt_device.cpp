// SPDX-License-Identifier: GPL-2.0-only
#include "nt_device.h"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>
#include <span>
#include <stdexcept>
#include <system_error>

namespace kperflab::notifier {

using workloads::AnonBuffer;
using workloads::InvalKind;
using workloads::Invalidator;

namespace {
constexpr uint32_t kHistLen = KPL_HIST_LEN_1S;
constexpr size_t kBufPages = 64;

Histogram from_kernel(const std::vector<uint64_t>& counts, uint64_t overflow) {
  Histogram h;
  h.merge_truncated(std::span<const uint64_t>(counts), overflow);
  return h;
}
}  // namespace

std::string NtDevice::unavailable_reason() {
  std::string why = KmodDevice::unavailable_reason();
  if (!why.empty()) return why;
  KmodDevice d;
  if (!(d.info().features & KPL_FEAT_NOTIFIER))
    return "kperflab.ko " + std::string(d.info().module_version) +
           " has no mmu notifier feature (KPL_FEAT_NOTIFIER)";
  return "";
}

NtDevice::NtDevice() {
  if (!(dev_.info().features & KPL_FEAT_NOTIFIER))
    throw std::runtime_error("kperflab.ko has no mmu notifier feature (KPL_FEAT_NOTIFIER)");
}

NtDevice::~NtDevice() = default;

std::string NtDevice::hmm_unavailable_reason() const {
  if (dev_.info().features & KPL_FEAT_NOTIFIER_HMM) return "";
  return "kperflab.ko " + std::string(dev_.info().module_version) +
         " was built without CONFIG_HMM_MIRROR (no KPL_FEAT_NOTIFIER_HMM)";
}

Result NtDevice::run(const Point& p, const std::vector<int>& reader_cpus, int inval_cpu) const {
  const bool thp = p.kind == InvalKind::thp_split;
  AnonBuffer buf(thp ? 4UL << 20 : kBufPages * size_t(sysconf(_SC_PAGESIZE)), thp);
  std::vector<int32_t> cpus(p.readers);
  for (uint32_t i = 0; i < p.readers; ++i) cpus[i] = reader_cpus[i % reader_cpus.size()];
  std::vector<uint64_t> h[4];
  for (auto& v : h) v.assign(kHistLen, 0);
  volatile uint32_t ready = 0;
  Result r;
  kpl_nt_req& q = r.req;
  q.size = sizeof q;
  q.version = KPL_UAPI_VERSION;
  q.addr = reinterpret_cast<uintptr_t>(buf.data());
  q.range_len = buf.size();
  q.nr_notifiers = p.notifiers;  // all over the whole buffer: each op hits every one
  q.nr_readers = p.readers;
  q.work_ns = p.work_ns;
  q.work_kind = p.work_kind;
  q.duration_ms = p.window_ms;
  q.hist_len = kHistLen;
  q.cpus = reinterpret_cast<uintptr_t>(cpus.data());
  q.hist_retries = reinterpret_cast<uintptr_t>(h[0].data());
  q.hist_begin_wait = reinterpret_cast<uintptr_t>(h[1].data());
  q.hist_commit = reinterpret_cast<uintptr_t>(h[2].data());
  q.hist_invalidate = reinterpret_cast<uintptr_t>(h[3].data());
  q.ready = reinterpret_cast<uintptr_t>(&ready);
  std::optional<Invalidator> inv;
  if (p.rate_hz != 0)
    inv.emplace(Invalidator::Config{.kind = p.kind, .rate_hz = p.rate_hz < 0 ? 0 : p.rate_hz,
                                    .threads = p.inval_threads, .cpus = {inval_cpu},
                                    .max_ops = 0, .gate = &ready},
                buf);
  int rc = ioctl(dev_.fd(), KPL_IOC_NOTIFIER, &q);
  int err = errno;
  if (inv) {
    inv->stop();
    if (!inv->error().empty()) throw std::runtime_error("invalidator: " + inv->error());
    r.ops = inv->ops();
    r.op_latency = inv->latency();
  }
  if (rc != 0) KmodDevice::throw_errno(err, "KPL_IOC_NOTIFIER");
  r.retries = from_kernel(h[0], q.overflow[0]);
  r.begin_wait = from_kernel(h[1], q.overflow[1]);
  r.commit = from_kernel(h[2], q.overflow[2]);
  r.invalidate = from_kernel(h[3], q.overflow[3]);
  return r;
}

}  // namespace kperflab::notifier
