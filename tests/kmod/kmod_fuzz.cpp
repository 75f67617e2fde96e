// SPDX-License-Identifier: GPL-2.0-only
// Random ioctls against /dev/kperflab: random commands (valid numbers and
// others), random sizes and versions, random field values, random
// pointers. The module must answer every call with 0 or an errno; the
// guest script then checks the kernel log for oops, BUG and WARNING.
// Usage: kmod_fuzz [calls=10000] [seed=1]
#include <random>
#include <vector>

#include "kmod_test.h"

namespace {

struct Fuzzer {
  std::mt19937_64 rng;
  std::vector<__u64> buf = std::vector<__u64>(KPL_MAX_HIST_LEN + 64);

  uint64_t pick(std::initializer_list<uint64_t> likely) {
    // Mostly near-valid values (so calls get past validation and run), the
    // rest anything at all.
    if (rng() % 4 == 0) return rng() >> (rng() % 64);
    auto it = likely.begin();
    std::advance(it, rng() % likely.size());
    return *it;
  }
  uint64_t ptr() {
    switch (rng() % 4) {
      case 0: return rng();                                        // garbage
      case 1: return 0;                                            // NULL
      case 2: return reinterpret_cast<uintptr_t>(buf.data()) + (rng() % 64) * 8;
      default: return reinterpret_cast<uintptr_t>(buf.data());
    }
  }
  void fill_random(void* p, size_t n) {
    auto* b = static_cast<unsigned char*>(p);
    for (size_t i = 0; i < n; ++i) b[i] = static_cast<unsigned char>(rng());
  }

  unsigned long cmd() {
    switch (rng() % 6) {
      case 0: return KPL_IOC_INFO;
      case 1: case 2: return KPL_IOC_IPI;
      case 3: return KPL_IOC_CPUMASK;
      case 4: return _IOC(rng() % 4, KPL_IOC_MAGIC, rng() % 256, rng() % 512);
      default: return static_cast<unsigned long>(rng());
    }
  }

  // One call; the argument is a random struct shaped like a request.
  int call(int fd) {
    unsigned char raw[256];
    fill_random(raw, sizeof raw);
    unsigned long c = cmd();
    if (c == KPL_IOC_IPI || rng() % 8 == 0) {
      kpl_ipi_req r{};
      r.size = static_cast<__u32>(pick({sizeof r, sizeof r, 8, 0, sizeof r + 8}));
      r.version = static_cast<__u32>(pick({KPL_UAPI_VERSION, KPL_UAPI_VERSION, 0, 1}));
      r.pattern = static_cast<__u32>(pick({0, 1, 2, 3}));
      r.src_cpu = static_cast<__s32>(pick({0, 1, 2, 3, static_cast<uint64_t>(-1)}));
      r.dst_cpu = static_cast<__s32>(pick({0, 1, 2, 3, 4096}));
      r.nr_targets = static_cast<__u32>(pick({0, 1, 2, 3, 64}));
      r.samples = static_cast<__u32>(pick({0, 1, 10, 100}));
      r.max_ms = static_cast<__u32>(pick({0, 1, 5, 20}));
      r.handler_delay_ns = static_cast<__u32>(pick({0, 1000, KPL_MAX_HANDLER_DELAY_NS}));
      r.hist_len = static_cast<__u32>(pick({0, 1, 100, KPL_MAX_HIST_LEN}));
      r.hist = ptr();
      r.hist2 = rng() % 2 ? 0 : ptr();
      r.target = static_cast<__u32>(pick({0, 0, 1, 2}));
      if (rng() % 8 == 0) r.reserved[rng() % 4] = static_cast<__u32>(rng());
      return kpltest::xioctl(fd, c, &r);
    }
    if (c == KPL_IOC_CPUMASK || rng() % 8 == 0) {
      kpl_cpumask_req r{};
      r.size = static_cast<__u32>(pick({sizeof r, sizeof r, 4}));
      r.version = static_cast<__u32>(pick({KPL_UAPI_VERSION, 7}));
      r.op = static_cast<__u32>(pick({0, 1, 5, 23, KPL_CMOP_OPS}));
      r.cpu = static_cast<__u32>(pick({0, 1, 8191, 1u << 31}));
      r.density = static_cast<__u32>(pick({0, 1, 2, 3}));
      r.n = pick({0, 1, 1000, 100000});
      if (rng() % 8 == 0) r.reserved[rng() % 4] = 1;
      return kpltest::xioctl(fd, c, &r);
    }
    if (rng() % 16 == 0) return kpltest::xioctl(fd, c, reinterpret_cast<void*>(ptr()));
    if (rng() % 2) {
      kpl_info* i = reinterpret_cast<kpl_info*>(raw);
      i->size = static_cast<__u32>(pick({sizeof(kpl_info), 0}));
      i->version = KPL_UAPI_VERSION;
    }
    return kpltest::xioctl(fd, c, raw);
  }
};

}  // namespace

int main(int argc, char** argv) {
  long calls = argc > 1 ? std::atol(argv[1]) : 10000;
  uint64_t seed = argc > 2 ? std::strtoull(argv[2], nullptr, 0) : 1;
  if (calls <= 0) {
    std::printf("kmod_fuzz: calls must be positive\n");
    return 1;
  }
  int fd = kpltest::open_or_skip("kmod_fuzz");
  Fuzzer f{std::mt19937_64(seed)};
  long ok = 0, errs = 0, bad = 0;
  for (long i = 0; i < calls; ++i) {
    int rc = f.call(fd);
    if (rc == 0) ++ok;
    else if (rc == -EINVAL || rc == -ENOTTY || rc == -EFAULT || rc == -EBUSY ||
             rc == -ETIMEDOUT || rc == -EINTR || rc == -ENOMEM || rc == -E2BIG ||
             rc == -EOPNOTSUPP)
      ++errs;
    else {
      ++bad;
      std::printf("kmod_fuzz: call %ld: unexpected errno %d (%s)\n", i, -rc, std::strerror(-rc));
    }
  }
  close(fd);
  std::printf("kmod_fuzz: %s: %ld calls, %ld succeeded, %ld refused, %ld unexpected (seed %llu)\n",
              bad ? "FAIL" : "PASS", calls, ok, errs, bad, static_cast<unsigned long long>(seed));
  return bad ? 1 : 0;
}
