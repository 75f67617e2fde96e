// SPDX-License-Identifier: GPL-2.0-only
// rmmod while a measurement runs in another thread: the removal is refused
// cleanly (the open fd pins the module: EBUSY/EWOULDBLOCK) or, if it
// succeeds, the measurement still returns; after the fd is closed the
// module unloads. Usage: kmod_rmmod_race [/path/to/kperflab.ko to reload]
#include <sys/syscall.h>

#include <atomic>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

#include "kmod_test.h"

namespace {

int delete_module(const char* name) {
  return syscall(SYS_delete_module, name, O_NONBLOCK) == 0 ? 0 : -errno;
}

int load_module(const char* path) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -errno;
  int rc = syscall(SYS_finit_module, fd, "", 0) == 0 ? 0 : -errno;
  close(fd);
  return rc;
}

}  // namespace

int main(int argc, char** argv) {
  int fd = kpltest::open_or_skip("kmod_rmmod_race");
  if (sysconf(_SC_NPROCESSORS_ONLN) < 2) {
    std::printf("kmod_rmmod_race: SKIP: needs 2 online CPUs\n");
    return 77;
  }
  int checks = 0;
  std::atomic<bool> started{false};
  std::atomic<int> measure_rc{1};
  std::thread t([&] {
    std::vector<__u64> h(1024);
    kpl_ipi_req r{};
    r.size = sizeof r;
    r.version = KPL_UAPI_VERSION;
    r.pattern = KPL_IPI_SINGLE;
    r.src_cpu = 0;
    r.dst_cpu = 1;
    r.samples = KPL_MAX_SAMPLES;
    r.max_ms = 1500;  // the time cap ends it
    r.hist_len = static_cast<__u32>(h.size());
    r.hist = reinterpret_cast<uintptr_t>(h.data());
    started = true;
    measure_rc = kpltest::xioctl(fd, KPL_IOC_IPI, &r);
  });
  while (!started) std::this_thread::yield();
  usleep(200000);
  int rc = delete_module("kperflab");
  ++checks;
  KPL_CHECK(rc == -EBUSY || rc == -EWOULDBLOCK || rc == -EAGAIN,
            "rmmod during a measurement: %s (expected EBUSY)", std::strerror(-rc));
  t.join();
  ++checks;
  KPL_CHECK(measure_rc == 0, "measurement returned %d", measure_rc.load());
  close(fd);
  usleep(100000);
  rc = delete_module("kperflab");
  ++checks;
  KPL_CHECK(rc == 0, "rmmod after close: %s", std::strerror(-rc));
  if (argc > 1) {
    rc = load_module(argv[1]);
    ++checks;
    KPL_CHECK(rc == 0, "reloading %s: %s", argv[1], std::strerror(-rc));
  }
  return kpltest::finish("kmod_rmmod_race", checks);
}
