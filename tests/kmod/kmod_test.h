// SPDX-License-Identifier: GPL-2.0-only
// Tiny harness for the guest-side module tests (no gtest: they are linked
// statically into the lab's initramfs). Exit 0 pass, 1 fail, 77 skip.
#pragma once

#include <fcntl.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "kperflab/uapi.h"

namespace kpltest {

inline int failures = 0;

#define KPL_CHECK(cond, ...)                                              \
  do {                                                                    \
    if (!(cond)) {                                                        \
      std::printf("FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);         \
      std::printf(__VA_ARGS__);                                           \
      std::printf("\n");                                                  \
      ++kpltest::failures;                                                \
    }                                                                     \
  } while (0)

// A check that also counts itself (kpltest::checks) for the summary line.
inline int checks = 0;
#define CHECK(...)            \
  do {                        \
    ++kpltest::checks;        \
    KPL_CHECK(__VA_ARGS__);   \
  } while (0)

inline int open_or_skip(const char* prog) {
  int fd = open(KPL_DEVICE, O_RDWR | O_CLOEXEC);
  if (fd < 0) {
    std::printf("%s: SKIP: open %s: %s (kperflab.ko not loaded)\n", prog, KPL_DEVICE,
                std::strerror(errno));
    std::exit(77);
  }
  return fd;
}

inline int finish(const char* prog, int checks) {
  std::printf("%s: %s (%d checks, %d failed)\n", prog, failures ? "FAIL" : "PASS", checks,
              failures);
  return failures ? 1 : 0;
}

// ioctl returning -errno or 0.
inline int xioctl(int fd, unsigned long cmd, void* arg) {
  return ioctl(fd, cmd, arg) == 0 ? 0 : -errno;
}

}  // namespace kpltest
