// SPDX-License-Identifier: GPL-2.0-only
// What the threads of a fault storm do (fault_storm_internal.h): touch
// pages in paced batches, the anon, file and cow loops, and a brk writer's
// round; each looks at the stop flag between batches.
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <functional>
#include <stdexcept>
#include <string>

#include "child.h"
#include "fault_storm_internal.h"

namespace kperflab::workloads::detail {

// Sleeps until `when` in slices of at most kSliceNs; false as soon as stop
// is set. Async-signal-safe: a cow child paces with it.
bool sleep_until(uint64_t when, const std::atomic<uint32_t>& stop) {
  for (;;) {
    if (stop.load(std::memory_order_relaxed)) return false;
    uint64_t now = now_ns();
    if (now >= when) return true;
    uint64_t until = std::min(when, now + kSliceNs);
    timespec ts{static_cast<time_t>(until / 1000000000ULL), static_cast<long>(until % 1000000000ULL)};
    clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr);  // EINTR: look again
  }
}

namespace {

// Touches `count` bytes `stride` apart (writes or reads), in batches with
// the stop flag looked at, and the pacer waited for, before each. `done` is
// the thread's running count (the pacer's item number). Returns the
// touches made: count unless stop came first. Async-signal-safe: a cow
// child runs it between fork and _exit.
uint64_t touch(char* addr, uint64_t count, size_t stride, bool write, const Run& r, uint64_t done) {
  uint64_t i = 0;
  while (i < count) {
    if (r.pace.ns_per_item > 0 ? !sleep_until(r.pace.due(done + i), r.stop) : r.stopped()) break;
    for (uint64_t end = std::min(count, i + r.batch); i < end; ++i) {
      volatile char* p = addr + i * stride;
      if (write)
        *p = 1;
      else
        (void)*p;
    }
  }
  return i;
}

}  // namespace

void run_anon(const FaultStormConfig& cfg, Run& r, Slot& slot) {
  const uint64_t pages = cfg.region_bytes / kPage;
  r.pace.t0 = now_ns();
  while (!r.stopped()) {
    Mapping m(cfg.region_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
    // Always, not only under THP "always": an madvise-mode or mTHP kernel
    // may still map many pages in one fault. EINVAL (no THP) is fine.
    madvise(m.data(), cfg.region_bytes, MADV_NOHUGEPAGE);
    uint64_t n = touch(m.data(), pages, kPage, true, r, slot.pages);
    slot.pages += n;
    if (n == pages) ++slot.iterations;
  }
}

void run_file(const FaultStormConfig& cfg, Run& r, Slot& slot, int fd, size_t pages_per_fault) {
  const uint64_t blocks = (cfg.region_bytes / kPage + pages_per_fault - 1) / pages_per_fault;
  r.pace.t0 = now_ns();
  while (!r.stopped()) {
    Mapping m(cfg.region_bytes, PROT_READ, MAP_SHARED, fd);
    uint64_t n = touch(m.data(), blocks, pages_per_fault * kPage, false, r, slot.pages);
    slot.pages += n;
    if (n == blocks) ++slot.iterations;
  }
}

namespace {

// Waits for a cow child (EINTR retried): it is always reaped.
void reap(pid_t pid, int* status, rusage* ru) {
  while (wait4(pid, status, 0, ru) < 0)
    if (errno != EINTR) fail("wait4 of a cow child");
}

}  // namespace

void run_cow(const FaultStormConfig& cfg, Run& r, Slot& slot, std::atomic<uint64_t>& reported,
             const std::function<void()>& setup_done) {
  const uint64_t pages = cfg.region_bytes / kPage;
  Mapping m(cfg.region_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
  madvise(m.data(), cfg.region_bytes, MADV_NOHUGEPAGE);
  Run setup{r.stop, Pacer{}, kBatch};  // the first write: unpaced, not counted
  if (touch(m.data(), pages, kPage, true, setup, 0) < pages) return;
  setup_done();
  r.pace.t0 = now_ns();
  while (!r.stopped()) {
    reported.store(0);
    pid_t pid = fork_bound_child();
    if (pid < 0) fail("fork");
    if (pid == 0) {  // a threaded parent's child: async-signal-safe calls only
      reported.store(touch(m.data(), pages, kPage, true, r, slot.pages));
      _exit(0);
    }
    rusage ru{};
    int status = 0;
    reap(pid, &status, &ru);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
      throw std::runtime_error("cow child " + std::to_string(pid) +
                               (WIFSIGNALED(status) ? " killed by signal " + std::to_string(WTERMSIG(status))
                                                    : " exited " + std::to_string(WEXITSTATUS(status))));
    uint64_t n = reported.load();
    slot.pages += n;
    slot.minflt += uint64_t(ru.ru_minflt);
    slot.majflt += uint64_t(ru.ru_majflt);
    if (n == pages) ++slot.iterations;
  }
}

namespace {

char* sys_brk(char* addr) { return reinterpret_cast<char*>(syscall(SYS_brk, addr)); }

}  // namespace

// One page above the break and back. sbrk(0) is glibc's cached view of the
// break (no syscall): the raw brk calls leave that view true, and a break
// glibc has moved since the last round is picked up rather than undone.
void brk_round() {
  char* base = static_cast<char*>(sbrk(0));
  if (base == reinterpret_cast<char*>(-1)) fail("sbrk(0)");
  if (sys_brk(base + kPage) != base + kPage) {
    errno = ENOMEM;
    fail("brk: the program break cannot grow by one page");
  }
  if (sys_brk(base) != base) {
    errno = ENOMEM;
    fail("brk: the program break cannot be put back");
  }
}

}  // namespace kperflab::workloads::detail
