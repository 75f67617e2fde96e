// SPDX-License-Identifier: GPL-2.0-only
// Every ioctl of kperflab.ko works, and refuses what it must.
#include <cstddef>
#include <vector>

#include "kmod_test.h"
#include "kperflab/hist.h"

using kpltest::xioctl;

namespace {

int online_cpus() { return static_cast<int>(sysconf(_SC_NPROCESSORS_ONLN)); }

kpl_ipi_req ipi_req(uint32_t pattern, std::vector<__u64>& h1, std::vector<__u64>& h2) {
  kpl_ipi_req r{};
  r.size = sizeof r;
  r.version = KPL_UAPI_VERSION;
  r.pattern = pattern;
  r.src_cpu = 0;
  r.dst_cpu = 1;
  r.nr_targets = 1;
  r.samples = 200;
  r.max_ms = 2000;
  r.hist_len = static_cast<uint32_t>(h1.size());
  r.hist = reinterpret_cast<uintptr_t>(h1.data());
  r.hist2 = reinterpret_cast<uintptr_t>(h2.data());
  return r;
}

uint64_t total(const std::vector<__u64>& h) {
  uint64_t t = 0;
  for (auto c : h) t += c;
  return t;
}

void test_info(int fd) {
  kpl_info info{};
  info.size = sizeof info;
  info.version = KPL_UAPI_VERSION;
  CHECK(xioctl(fd, KPL_IOC_INFO, &info) == 0, "INFO failed");
  CHECK(info.uapi_version == KPL_UAPI_VERSION, "uapi version %u", info.uapi_version);
  CHECK((info.features & (KPL_FEAT_IPI | KPL_FEAT_CPUMASK)) == (KPL_FEAT_IPI | KPL_FEAT_CPUMASK),
        "features 0x%x", info.features);
  CHECK(info.nr_cpu_ids >= static_cast<uint32_t>(online_cpus()), "nr_cpu_ids %u", info.nr_cpu_ids);
  CHECK(std::strlen(info.module_version) > 0, "empty module version");
  CHECK(info.clock_granularity_ns > 0 && info.clock_granularity_ns < 1000000,
        "clock granularity %u ns", info.clock_granularity_ns);
  CHECK(info.live_notifiers == 0, "%llu notifiers live with no measurement running",
        static_cast<unsigned long long>(info.live_notifiers));
  kpl_info bad = info;
  bad.size = 4;
  CHECK(xioctl(fd, KPL_IOC_INFO, &bad) == -EINVAL, "size smaller than the header accepted");
  // copy_struct_from_user: an older, shorter struct works and only its
  // own bytes are written back; a longer one only with a zero tail.
  struct {
    kpl_info info;
    uint32_t tail[4];
  } grown{};
  grown.info.size = offsetof(kpl_info, clock_granularity_ns);
  grown.info.version = KPL_UAPI_VERSION;
  std::memset(&grown.info.clock_granularity_ns, 0xab,
              sizeof grown - offsetof(kpl_info, clock_granularity_ns));
  CHECK(xioctl(fd, KPL_IOC_INFO, &grown) == 0, "older, shorter struct refused");
  CHECK(grown.info.nr_cpu_ids == info.nr_cpu_ids && grown.info.clock_granularity_ns == 0xabababab,
        "short struct: written past its size");
  std::memset(&grown, 0, sizeof grown);
  grown.info.size = sizeof grown;
  grown.info.version = KPL_UAPI_VERSION;
  CHECK(xioctl(fd, KPL_IOC_INFO, &grown) == 0, "longer struct with a zero tail refused");
  grown.tail[2] = 1;
  CHECK(xioctl(fd, KPL_IOC_INFO, &grown) == -E2BIG, "non-zero unknown tail not E2BIG");
  // A binary built against a newer (longer) or older (shorter) uapi.h has
  // the size of its struct in the ioctl number: the same command (#28).
  grown.tail[2] = 0;
  CHECK(xioctl(fd, _IOWR(KPL_IOC_MAGIC, 0x00, decltype(grown)), &grown) == 0,
        "INFO numbered with a longer struct's size: %s", strerror(errno));
  CHECK(grown.info.nr_cpu_ids == info.nr_cpu_ids, "longer struct: INFO not filled");
  const size_t older = offsetof(kpl_info, clock_granularity_ns);
  std::memset(&grown, 0xab, sizeof grown);
  grown.info.size = static_cast<uint32_t>(older);
  grown.info.version = KPL_UAPI_VERSION;
  CHECK(xioctl(fd, _IOC(_IOC_READ | _IOC_WRITE, KPL_IOC_MAGIC, 0x00, older), &grown) == 0,
        "INFO numbered with an older struct's size: %s", strerror(errno));
  CHECK(grown.info.nr_cpu_ids == info.nr_cpu_ids && grown.info.clock_granularity_ns == 0xabababab,
        "older struct: not filled, or written past its size");
  CHECK(xioctl(fd, _IOW(KPL_IOC_MAGIC, 0x00, kpl_info), &info) == -ENOTTY,
        "INFO with a write-only direction accepted");
  bad = info;
  bad.version = 99;
  CHECK(xioctl(fd, KPL_IOC_INFO, &bad) == -EINVAL, "unknown version accepted");
  bad = info;
  bad.size = sizeof bad;
  bad.version = KPL_UAPI_VERSION;
  bad.reserved[3] = 1;
  CHECK(xioctl(fd, KPL_IOC_INFO, &bad) == -EINVAL, "non-zero reserved accepted");
  CHECK(xioctl(fd, _IOWR(KPL_IOC_MAGIC, 0x3f, kpl_info), &info) == -ENOTTY, "unknown cmd");
  CHECK(xioctl(fd, KPL_IOC_INFO, reinterpret_cast<void*>(16)) == -EFAULT, "bad pointer");
}

void test_ipi(int fd) {
  std::vector<__u64> h1(KPL_HIST_LEN_1S), h2(KPL_HIST_LEN_1S);
  for (uint32_t pattern : {KPL_IPI_SINGLE, KPL_IPI_BROADCAST, KPL_IPI_IRQ_WORK}) {
    std::fill(h1.begin(), h1.end(), 0);
    std::fill(h2.begin(), h2.end(), 0);
   for (uint32_t target : {KPL_IPI_TARGET_IDLE, KPL_IPI_TARGET_BUSY}) {
    if (pattern == KPL_IPI_IRQ_WORK && target == KPL_IPI_TARGET_BUSY) continue;
    std::fill(h1.begin(), h1.end(), 0);
    std::fill(h2.begin(), h2.end(), 0);
    auto r = ipi_req(pattern, h1, h2);
    r.target = target;
    r.done = 12345;  // (out) fields are ignored on input
    r.failed = 7;
    int rc = xioctl(fd, KPL_IOC_IPI, &r);
    CHECK(rc == 0, "IPI pattern %u target %u: %s", pattern, target, std::strerror(-rc));
    CHECK(r.done == r.samples, "pattern %u: done %llu of %u", pattern,
          static_cast<unsigned long long>(r.done), r.samples);
    // Every attempted sample is recorded or counted as not measured.
    uint64_t bad = r.failed + r.negative + r.after_return + r.migrated;
    CHECK(total(h1) + r.overflow + bad == r.done, "pattern %u: histogram holds %llu + %llu bad",
          pattern, static_cast<unsigned long long>(total(h1)),
          static_cast<unsigned long long>(bad));
    CHECK(r.failed == 0 && r.migrated == 0, "pattern %u target %u: %llu failed, %llu migrated",
          pattern, target, static_cast<unsigned long long>(r.failed),
          static_cast<unsigned long long>(r.migrated));
    if (r.negative + r.after_return)
      std::printf("note: pattern %u: %llu negative, %llu after return (clocks disagree)\n",
                  pattern, static_cast<unsigned long long>(r.negative),
                  static_cast<unsigned long long>(r.after_return));
    if (pattern != KPL_IPI_IRQ_WORK)
      CHECK(total(h2) + r.overflow2 + r.failed + r.migrated == r.done, "pattern %u: hist2",
            pattern);
   }
  }
  auto t = ipi_req(KPL_IPI_IRQ_WORK, h1, h2);
  t.target = KPL_IPI_TARGET_BUSY;
  CHECK(xioctl(fd, KPL_IOC_IPI, &t) == -EINVAL, "busy target of a self-IPI accepted");
  t = ipi_req(KPL_IPI_SINGLE, h1, h2);
  t.target = KPL_IPI_TARGETS;
  CHECK(xioctl(fd, KPL_IOC_IPI, &t) == -EINVAL, "unknown target state accepted");
  t = ipi_req(KPL_IPI_SINGLE, h1, h2);
  t.reserved0 = 1;
  CHECK(xioctl(fd, KPL_IOC_IPI, &t) == -EINVAL, "non-zero reserved0 accepted");
  auto r = ipi_req(KPL_IPI_SINGLE, h1, h2);
  r.dst_cpu = r.src_cpu;
  CHECK(xioctl(fd, KPL_IOC_IPI, &r) == -EINVAL, "src == dst accepted");
  r = ipi_req(KPL_IPI_SINGLE, h1, h2);
  r.dst_cpu = 1 << 20;
  CHECK(xioctl(fd, KPL_IOC_IPI, &r) == -EINVAL, "absurd CPU accepted");
  r = ipi_req(KPL_IPI_SINGLE, h1, h2);
  r.samples = KPL_MAX_SAMPLES + 1;
  CHECK(xioctl(fd, KPL_IOC_IPI, &r) == -EINVAL, "too many samples accepted");
  r = ipi_req(KPL_IPI_SINGLE, h1, h2);
  r.max_ms = KPL_MAX_MS + 1;
  CHECK(xioctl(fd, KPL_IOC_IPI, &r) == -EINVAL, "time cap past the limit accepted");
  r = ipi_req(KPL_IPI_SINGLE, h1, h2);
  r.hist_len = KPL_MAX_HIST_LEN + 1;
  CHECK(xioctl(fd, KPL_IOC_IPI, &r) == -EINVAL, "huge hist_len accepted");
  r = ipi_req(KPL_IPI_BROADCAST, h1, h2);
  r.nr_targets = static_cast<uint32_t>(online_cpus());
  CHECK(xioctl(fd, KPL_IOC_IPI, &r) == -EINVAL, "more targets than other CPUs accepted");
  r = ipi_req(9, h1, h2);
  CHECK(xioctl(fd, KPL_IOC_IPI, &r) == -EINVAL, "unknown pattern accepted");
  r = ipi_req(KPL_IPI_SINGLE, h1, h2);
  r.hist = 8;
  CHECK(xioctl(fd, KPL_IOC_IPI, &r) == -EFAULT, "bad histogram pointer not EFAULT");
  // Handler delay shows up in the one-way latency's tail.
  r = ipi_req(KPL_IPI_SINGLE, h1, h2);
  r.handler_delay_ns = KPL_MAX_HANDLER_DELAY_NS + 1;
  CHECK(xioctl(fd, KPL_IOC_IPI, &r) == -EINVAL, "delay past the limit accepted");
}

void test_cpumask(int fd) {
  kpl_info info{};
  info.size = sizeof info;
  info.version = KPL_UAPI_VERSION;
  CHECK(xioctl(fd, KPL_IOC_INFO, &info) == 0, "INFO failed");
  for (uint32_t op = 0; op < KPL_CMOP_OPS; ++op) {
    kpl_cpumask_req r{};
    r.size = sizeof r;
    r.version = KPL_UAPI_VERSION;
    r.op = op;
    r.n = 10000;
    r.density = 1;
    int rc = xioctl(fd, KPL_IOC_CPUMASK, &r);
    if (op == KPL_CMOP_ALLOC_FREE && !(info.features & KPL_FEAT_CPUMASK_OFFSTACK)) {
      CHECK(rc == -EOPNOTSUPP, "alloc_free without CPUMASK_OFFSTACK: %d, not EOPNOTSUPP", rc);
      continue;
    }
    CHECK(rc == 0, "cpumask op %u: %s", op, std::strerror(-rc));
    CHECK(r.n == 10000 && r.elapsed_ns > 0, "cpumask op %u: n %llu elapsed %llu", op,
          static_cast<unsigned long long>(r.n), static_cast<unsigned long long>(r.elapsed_ns));
  }
  kpl_cpumask_req r{};
  r.size = sizeof r;
  r.version = KPL_UAPI_VERSION;
  r.op = KPL_CMOP_OPS;
  r.n = 1;
  CHECK(xioctl(fd, KPL_IOC_CPUMASK, &r) == -EINVAL, "unknown op accepted");
  r.op = KPL_CMOP_WEIGHT;
  r.n = KPL_MAX_ITERATIONS + 1;
  CHECK(xioctl(fd, KPL_IOC_CPUMASK, &r) == -EINVAL, "too many iterations accepted");
  r.n = 1;
  r.cpu = 1U << 30;
  CHECK(xioctl(fd, KPL_IOC_CPUMASK, &r) == -EINVAL, "bad cpu accepted");
}

}  // namespace

int main() {
  int fd = kpltest::open_or_skip("kmod_ioctl_test");
  if (online_cpus() < 2) {
    std::printf("kmod_ioctl_test: SKIP: needs 2 online CPUs\n");
    return 77;
  }
  test_info(fd);
  test_ipi(fd);
  test_cpumask(fd);
  close(fd);
  return kpltest::finish("kmod_ioctl_test", kpltest::checks);
}
