// SPDX-License-Identifier: GPL-2.0-only
// kperflab.ko on a production host: what must never happen, provoked.
//   concurrent  a second measuring process gets EBUSY while one measures
//   sigkill     SIGKILL in the middle of a 100,000-notifier registration
//               leaves no notifier behind (KPL_IOC_INFO live_notifiers)
//   hotplug     a target or source CPU taken offline during an IPI run:
//               a clean -ENXIO within the time cap, counts consistent; a
//               notifier reader's CPU offlined: counted in readers_moved
//   longest     the longest run of every command, with the soft-lockup,
//               RCU-stall and hung-task detectors set tight (the kernel log
//               is checked by guest-tests.sh afterwards)
//   again       after rmmod + insmod: a notifier run works, nothing leaked
//   rthog       an RT task owns the IPI sender's (or a notifier reader's)
//               CPU: the caller gives the run up within its cap + 2 s,
//               SIGKILL ends it, the module's references come back and the
//               notifiers go when the CPU is free
// Usage: kmod_safety_test [SECTION...] (default: the first four).
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/wait.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "kmod_test.h"
#include "kperflab/hist.h"

using kpltest::xioctl;

namespace {

using Clock = std::chrono::steady_clock;

double secs_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

int online_cpus() { return static_cast<int>(sysconf(_SC_NPROCESSORS_ONLN)); }

kpl_info info(int fd) {
  kpl_info i{};
  i.size = sizeof i;
  i.version = KPL_UAPI_VERSION;
  CHECK(xioctl(fd, KPL_IOC_INFO, &i) == 0, "INFO failed");
  return i;
}

struct Ipi {
  std::vector<__u64> h1 = std::vector<__u64>(KPL_HIST_LEN_1S);
  std::vector<__u64> h2 = std::vector<__u64>(KPL_HIST_LEN_1S);
  kpl_ipi_req r{};
  Ipi(uint32_t pattern, int src, int dst, uint32_t samples, uint32_t max_ms) {
    r.size = sizeof r;
    r.version = KPL_UAPI_VERSION;
    r.pattern = pattern;
    r.src_cpu = src;
    r.dst_cpu = dst;
    r.samples = samples;
    r.max_ms = max_ms;
    r.hist_len = static_cast<uint32_t>(h1.size());
    r.hist = reinterpret_cast<uintptr_t>(h1.data());
    r.hist2 = reinterpret_cast<uintptr_t>(h2.data());
  }
  uint64_t recorded() const {
    uint64_t t = r.overflow;
    for (auto c : h1) t += c;
    return t;
  }
  uint64_t bad() const { return r.failed + r.negative + r.after_return + r.migrated; }
};

// A notifier request over buf (npages pages, one notifier per page).
kpl_nt_req nt_req(void* buf, uint32_t notifiers, uint32_t duration_ms, uint32_t* ready) {
  kpl_nt_req q{};
  q.size = sizeof q;
  q.version = KPL_UAPI_VERSION;
  q.addr = reinterpret_cast<uintptr_t>(buf);
  q.range_len = 4096;
  q.stride = 4096;
  q.nr_notifiers = notifiers;
  q.duration_ms = duration_ms;
  q.hist_len = 64;
  q.ready = reinterpret_cast<uintptr_t>(ready);
  return q;
}

// Shared between a measuring child and the parent.
struct Shared {
  std::atomic<uint32_t> entering;
  uint32_t ready;  // written by the module
};

Shared* shared_page() {
  void* p = mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) {
    std::printf("mmap: %s\n", std::strerror(errno));
    std::exit(1);
  }
  return new (p) Shared{};
}

// Child: one notifier measurement; exit status 0 when it returned 0.
[[noreturn]] void nt_child(Shared* sh, uint32_t notifiers, uint32_t duration_ms) {
  int fd = open(KPL_DEVICE, O_RDWR | O_CLOEXEC);
  size_t len = size_t{notifiers} * 4096;
  void* buf = mmap(nullptr, len, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (fd < 0 || buf == MAP_FAILED) _exit(2);
  auto q = nt_req(buf, notifiers, duration_ms, &sh->ready);
  sh->entering = 1;
  _exit(xioctl(fd, KPL_IOC_NOTIFIER, &q) == 0 ? 0 : 1);
}

bool wait_ready(Shared* sh, double timeout_s) {
  auto t0 = Clock::now();
  while (__atomic_load_n(&sh->ready, __ATOMIC_ACQUIRE) != 1) {
    if (secs_since(t0) > timeout_s) return false;
    usleep(1000);
  }
  return true;
}

int test_concurrent(int fd) {
  if (!(info(fd).features & KPL_FEAT_NOTIFIER)) {
    std::printf("concurrent: SKIP: no KPL_FEAT_NOTIFIER (its window is what is held open)\n");
    return 77;
  }
  Shared* sh = shared_page();
  pid_t pid = fork();
  if (pid == 0) nt_child(sh, 1, 3000);
  CHECK(wait_ready(sh, 60), "the first process's window never opened");
  Ipi ipi(KPL_IPI_SINGLE, 0, 1, 10, 100);
  int rc = xioctl(fd, KPL_IOC_IPI, &ipi.r);
  CHECK(rc == -EBUSY, "IPI while another process measures: %d, expected EBUSY", rc);
  kpl_cpumask_req cm{};
  cm.size = sizeof cm;
  cm.version = KPL_UAPI_VERSION;
  cm.op = KPL_CMOP_WEIGHT;
  cm.n = 10;
  rc = xioctl(fd, KPL_IOC_CPUMASK, &cm);
  CHECK(rc == -EBUSY, "CPUMASK while another process measures: %d, expected EBUSY", rc);
  kpl_info i = info(fd);  // INFO is never refused
  CHECK(i.live_notifiers == 1, "live notifiers during the other run: %llu",
        static_cast<unsigned long long>(i.live_notifiers));
  int st = 0;
  waitpid(pid, &st, 0);
  CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "the first process's run failed (status %d)", st);
  rc = xioctl(fd, KPL_IOC_IPI, &ipi.r);
  CHECK(rc == 0, "IPI after the other run ended: %d", rc);
  return 0;
}

int test_sigkill(int fd) {
  if (!(info(fd).features & KPL_FEAT_NOTIFIER)) {
    std::printf("sigkill: SKIP: no KPL_FEAT_NOTIFIER\n");
    return 77;
  }
  Shared* sh = shared_page();
  int mid = 0, tries = 0;
  // Kill later and later after the child enters the ioctl, until three
  // kills have landed while the 100,000 notifiers were being registered.
  for (int delay_us = 0; mid < 3 && delay_us <= 2000000; delay_us = delay_us * 2 + 500) {
    sh->entering = 0;
    sh->ready = 0;
    pid_t pid = fork();
    if (pid == 0) nt_child(sh, KPL_NT_MAX_NOTIFIERS, 500);
    while (!sh->entering) usleep(100);
    usleep(static_cast<useconds_t>(delay_us));
    bool registering = __atomic_load_n(&sh->ready, __ATOMIC_ACQUIRE) == 0;
    kill(pid, SIGKILL);
    int st = 0;
    waitpid(pid, &st, 0);
    ++tries;
    if (registering && WIFSIGNALED(st)) ++mid;
    kpl_info i = info(fd);
    CHECK(i.live_notifiers == 0, "after SIGKILL at %d us: %llu notifiers left in the mm",
          delay_us, static_cast<unsigned long long>(i.live_notifiers));
  }
  std::printf("sigkill: %d kills, %d during registration\n", tries, mid);
  CHECK(mid > 0, "no kill landed during registration");
  return 0;
}

bool set_online(int cpu, bool on) {
  std::ofstream f("/sys/devices/system/cpu/cpu" + std::to_string(cpu) + "/online");
  f << (on ? "1" : "0");
  f.flush();
  return f.good();
}

// One IPI run of up to 5 s while `victim` goes offline after 300 ms.
void hotplug_case(int fd, const char* what, uint32_t pattern, int src, int dst, int victim) {
  Ipi ipi(pattern, src, dst, KPL_MAX_SAMPLES, 5000);
  ipi.r.target = KPL_IPI_TARGET_BUSY;
  ipi.r.nr_targets = static_cast<uint32_t>(online_cpus() - 1);
  std::atomic<int> rc{1};
  auto t0 = Clock::now();
  std::thread t([&] { rc = xioctl(fd, KPL_IOC_IPI, &ipi.r); });
  usleep(300000);
  bool off = set_online(victim, false);
  t.join();
  double took = secs_since(t0);
  if (off) set_online(victim, true);
  if (!off) {
    std::printf("hotplug %s: SKIP: cpu%d cannot go offline\n", what, victim);
    return;
  }
  std::printf("hotplug %s: rc %d after %.2f s, done %llu, failed %llu, migrated %llu\n", what,
              rc.load(), took, static_cast<unsigned long long>(ipi.r.done),
              static_cast<unsigned long long>(ipi.r.failed),
              static_cast<unsigned long long>(ipi.r.migrated));
  CHECK(rc == -ENXIO, "%s: rc %d, expected ENXIO", what, rc.load());
  CHECK(took < 5.0 + 10.0, "%s: took %.1f s past a 5 s cap", what, took);
  CHECK(ipi.r.failed + ipi.r.migrated >= 1, "%s: the lost sample is not counted", what);
  CHECK(ipi.recorded() + ipi.bad() == ipi.r.done, "%s: %llu recorded + %llu bad != done", what,
        static_cast<unsigned long long>(ipi.recorded()),
        static_cast<unsigned long long>(ipi.bad()));
}

// #28: a notifier reader whose CPU goes offline stops reading and is
// counted (readers_moved), the run ends normally.
void hotplug_notifier(int fd, int victim) {
  if (!(info(fd).features & KPL_FEAT_NOTIFIER)) return;
  const uint32_t pages = 16;
  void* buf = mmap(nullptr, pages * 4096, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  CHECK(buf != MAP_FAILED, "mmap");
  if (buf == MAP_FAILED) return;
  uint32_t ready = 0;
  auto q = nt_req(buf, pages, 2000, &ready);
  int32_t cpus[2] = {1, victim};
  q.nr_readers = 2;
  q.cpus = reinterpret_cast<uintptr_t>(cpus);
  std::atomic<int> rc{1};
  std::thread t([&] { rc = xioctl(fd, KPL_IOC_NOTIFIER, &q); });
  auto t0 = Clock::now();
  while (__atomic_load_n(&ready, __ATOMIC_ACQUIRE) != 1 && secs_since(t0) < 10) usleep(1000);
  usleep(300000);
  bool off = set_online(victim, false);
  t.join();
  if (off) set_online(victim, true);
  munmap(buf, pages * 4096);
  if (!off) {
    std::printf("hotplug notifier: SKIP: cpu%d cannot go offline\n", victim);
    return;
  }
  std::printf("hotplug notifier reader: rc %d, readers_moved %llu, attempts %llu\n", rc.load(),
              static_cast<unsigned long long>(q.readers_moved),
              static_cast<unsigned long long>(q.attempts));
  CHECK(rc == 0, "notifier run with a reader's CPU offlined: rc %d", rc.load());
  CHECK(q.readers_moved == 1, "readers_moved %llu, expected 1",
        static_cast<unsigned long long>(q.readers_moved));
}

int test_hotplug(int fd) {
  if (online_cpus() < 4 || access("/sys/devices/system/cpu/cpu2/online", W_OK) != 0) {
    std::printf("hotplug: SKIP: needs 4 online CPUs and a writable cpu2/online\n");
    return 77;
  }
  hotplug_case(fd, "target offline", KPL_IPI_SINGLE, 1, 2, 2);
  hotplug_case(fd, "source offline", KPL_IPI_SINGLE, 2, 1, 2);
  hotplug_case(fd, "broadcast target offline", KPL_IPI_BROADCAST, 1, 0, 3);
  hotplug_notifier(fd, 2);
  Ipi ipi(KPL_IPI_SINGLE, 1, 2, 100, 1000);  // everything back
  CHECK(xioctl(fd, KPL_IOC_IPI, &ipi.r) == 0, "IPI after the CPUs came back");
  return 0;
}

// Sets a tunable for the life of the object; reports whether it exists.
struct Tunable {
  std::string path, old;
  bool ok = false;
  Tunable(std::string p, const std::string& v) : path(std::move(p)) {
    std::ifstream in(path);
    if (!(in >> old)) return;
    std::ofstream out(path);
    out << v;
    out.flush();
    ok = out.good();
    std::printf("longest: %s = %s (was %s)%s\n", path.c_str(), v.c_str(), old.c_str(),
                ok ? "" : " NOT SET");
  }
  ~Tunable() {
    if (ok) std::ofstream(path) << old;
  }
};

void longest_ipi(int fd, uint32_t pattern, uint32_t target) {
  Ipi ipi(pattern, 0, 1, KPL_MAX_SAMPLES, KPL_MAX_MS);
  ipi.r.target = target;
  ipi.r.nr_targets = static_cast<uint32_t>(online_cpus() - 1);
  ipi.r.handler_delay_ns = KPL_MAX_HANDLER_DELAY_NS;
  auto t0 = Clock::now();
  int rc = xioctl(fd, KPL_IOC_IPI, &ipi.r);
  double took = secs_since(t0);
  std::printf("longest: IPI pattern %u: rc %d, %llu samples in %.1f s\n", pattern, rc,
              static_cast<unsigned long long>(ipi.r.done), took);
  CHECK(rc == 0, "longest IPI pattern %u: rc %d", pattern, rc);
  CHECK(took < KPL_MAX_MS / 1000.0 + 15, "IPI pattern %u ran %.1f s", pattern, took);
}

void longest_notifier(int fd) {
  const uint32_t pages = 64;
  void* buf = mmap(nullptr, pages * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                   -1, 0);
  std::vector<__s32> cpus;
  for (int c = 0; c < online_cpus(); ++c) cpus.push_back(c);
  uint32_t ready = 0;
  auto q = nt_req(buf, pages, KPL_MAX_MS, &ready);
  q.nr_readers = static_cast<uint32_t>(cpus.size());
  q.cpus = reinterpret_cast<uintptr_t>(cpus.data());
  q.work_ns = KPL_NT_MAX_WORK_NS;
  std::atomic<bool> stop{false};
  std::thread inval([&] {  // invalidations all along, so readers retry
    while (!stop) {
      madvise(buf, pages * 4096, MADV_DONTNEED);
      usleep(1000);
    }
  });
  auto t0 = Clock::now();
  int rc = xioctl(fd, KPL_IOC_NOTIFIER, &q);
  stop = true;
  inval.join();
  double took = secs_since(t0);
  std::printf("longest: notifier: rc %d, %llu attempts, %llu retries in %.1f s\n", rc,
              static_cast<unsigned long long>(q.attempts),
              static_cast<unsigned long long>(q.retries), took);
  CHECK(rc == 0, "longest notifier: rc %d", rc);
  CHECK(took < KPL_MAX_MS / 1000.0 + 30, "notifier ran %.1f s", took);
  munmap(buf, pages * 4096);
}

int test_longest(int fd) {
  // Soft lockup after 2 * thresh s, RCU stall after 5 s, hung task after
  // 5 s: each shorter than one 10 s measurement.
  Tunable wd("/proc/sys/kernel/watchdog_thresh", "3");
  Tunable rcu("/sys/module/rcupdate/parameters/rcu_cpu_stall_timeout", "5");
  Tunable hung("/proc/sys/kernel/hung_task_timeout_secs", "5");
  if (!wd.ok && !rcu.ok && !hung.ok) {
    std::printf("longest: SKIP: no lockup detector can be set here\n");
    return 77;
  }
  longest_ipi(fd, KPL_IPI_SINGLE, KPL_IPI_TARGET_BUSY);
  longest_ipi(fd, KPL_IPI_BROADCAST, KPL_IPI_TARGET_BUSY);
  longest_ipi(fd, KPL_IPI_IRQ_WORK, KPL_IPI_TARGET_IDLE);
  for (uint32_t op : {KPL_CMOP_WEIGHT, KPL_CMOP_ALLOC_FREE}) {
    kpl_cpumask_req cm{};
    cm.size = sizeof cm;
    cm.version = KPL_UAPI_VERSION;
    cm.op = op;
    cm.n = KPL_MAX_ITERATIONS;
    cm.density = 2;
    auto t0 = Clock::now();
    int rc = xioctl(fd, KPL_IOC_CPUMASK, &cm);
    std::printf("longest: cpumask op %u: rc %d, %llu ops in %.1f s\n", op, rc,
                static_cast<unsigned long long>(cm.n), secs_since(t0));
    CHECK(rc == 0 || rc == -ETIMEDOUT || rc == -EOPNOTSUPP, "cpumask op %u: rc %d", op, rc);
  }
  if (info(fd).features & KPL_FEAT_NOTIFIER) longest_notifier(fd);
  // Give a late detector report the time to reach the log.
  sleep(6);
  return 0;
}

int module_refcnt() {
  std::ifstream in("/sys/module/kperflab/refcnt");
  int n = -1;
  in >> n;
  return n;
}

// Runs an IPI request from CPU caller_cpu in a child (the ioctl may not
// return); the child's exit code is -rc.
pid_t ipi_child(uint32_t src, uint32_t dst, uint32_t samples, uint32_t max_ms) {
  pid_t pid = fork();
  if (pid != 0) return pid;
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(dst, &set);
  sched_setaffinity(0, sizeof set, &set);
  int cfd = open(KPL_DEVICE, O_RDWR | O_CLOEXEC);
  if (cfd < 0) _exit(100);
  Ipi ipi(KPL_IPI_SINGLE, static_cast<int>(src), static_cast<int>(dst), samples, max_ms);
  _exit(-xioctl(cfd, KPL_IOC_IPI, &ipi.r));
}

// Waits up to timeout_s for pid; its exit code, or -1 if it did not end.
int wait_child(pid_t pid, double timeout_s, double* took) {
  auto t0 = Clock::now();
  int st = 0;
  for (;;) {
    pid_t w = waitpid(pid, &st, WNOHANG);
    if (w == pid) break;
    if (secs_since(t0) > timeout_s) return -1;
    usleep(10000);
  }
  *took = secs_since(t0);
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

// #28: an RT task owns the sender's CPU (sched_rt_runtime_us = -1: not
// throttled), where our sender kthread may never run. The caller waits at
// most the time cap + 2 s and gives the job up (ETIMEDOUT); SIGKILL ends
// a waiting caller at once; once the CPU is free, the given-up kthreads end
// and drop their module references (refcnt back, rmmod_race unloads it).
int test_rthog(int fd) {
  if (online_cpus() < 2) return 77;
  Tunable rt("/proc/sys/kernel/sched_rt_runtime_us", "-1");
  if (!rt.ok) {
    std::printf("rthog: SKIP: cannot turn RT throttling off\n");
    return 77;
  }
  // 6.12+ serves fair tasks under RT load from a deadline server (50 ms a
  // second by default): our kthreads would run, slowly. Off on CPU 1 for
  // the test (debugfs), as an RT-heavy host may have it.
  const char* fs = "/sys/kernel/debug/sched/fair_server/cpu1/runtime";
  if (access("/sys/kernel/debug/sched", F_OK) != 0)
    mount("none", "/sys/kernel/debug", "debugfs", 0, nullptr);
  std::optional<Tunable> fair;
  if (access(fs, F_OK) == 0) {
    fair.emplace(fs, "0");
    if (!fair->ok) {
      std::printf("rthog: SKIP: cannot turn the fair server off on CPU 1\n");
      return 77;
    }
  }
  const int refs0 = module_refcnt();
  Shared* sh = shared_page();
  pid_t hog = fork();
  if (hog == 0) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(1, &set);
    sched_setaffinity(0, sizeof set, &set);
    sched_param sp{};
    sp.sched_priority = 99;
    if (sched_setscheduler(0, SCHED_FIFO, &sp) != 0) _exit(3);
    sh->entering = 1;
    for (;;) __asm__ __volatile__("" ::: "memory");
  }
  auto t0 = Clock::now();
  while (sh->entering.load() != 1 && secs_since(t0) < 5) usleep(1000);
  int st = 0;
  if (sh->entering.load() != 1) {
    kill(hog, SIGKILL);
    waitpid(hog, &st, 0);
    std::printf("rthog: SKIP: no SCHED_FIFO hog on CPU 1\n");
    return 77;
  }
  usleep(100000);
  double took = 0;
  // 1. Given up within the cap + grace.
  pid_t c = ipi_child(1, 0, 1000, 200);
  int code = wait_child(c, 10.0, &took);
  if (code == -1) {
    kill(hog, SIGKILL);  // frees the CPU: the old module returns then
    waitpid(hog, &st, 0);
    code = wait_child(c, 30.0, &took);
    CHECK(false, "the IPI caller still waited 10 s after a 200 ms cap (then %d)", code);
    return 0;
  }
  std::printf("rthog: sender's CPU owned by an RT task: errno %d after %.2f s\n", code, took);
  CHECK(code == ETIMEDOUT, "errno %d, expected ETIMEDOUT", code);
  CHECK(took < 0.2 + 2.0 + 5.0, "given up after %.2f s (cap 0.2 s + 2 s grace)", took);
  // 2. SIGKILL ends a caller that waits (10 s cap: 12 s bound).
  c = ipi_child(1, 0, 1000000, 10000);
  usleep(500000);
  kill(c, SIGKILL);
  code = wait_child(c, 5.0, &took);
  std::printf("rthog: SIGKILL to a waiting caller: ended after %.2f s (status %d)\n", took, code);
  CHECK(code == 128 + SIGKILL, "a killed caller did not end within 5 s (status %d)", code);
  // 3. A notifier reader on the RT task's CPU: the run is given up to it
  // within the window + 2 s.
  if (info(fd).features & KPL_FEAT_NOTIFIER) {
    c = fork();
    if (c == 0) {
      int cfd = open(KPL_DEVICE, O_RDWR | O_CLOEXEC);
      void* buf = mmap(nullptr, 16 * 4096, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
      if (cfd < 0 || buf == MAP_FAILED) _exit(100);
      auto q = nt_req(buf, 16, 200, nullptr);
      int32_t cpus[1] = {1};
      q.nr_readers = 1;
      q.cpus = reinterpret_cast<uintptr_t>(cpus);
      _exit(-xioctl(cfd, KPL_IOC_NOTIFIER, &q));
    }
    code = wait_child(c, 10.0, &took);
    if (code == -1) {
      kill(hog, SIGKILL);
      waitpid(hog, &st, 0);
      code = wait_child(c, 30.0, &took);
      CHECK(false, "the notifier caller still waited 10 s after a 200 ms window (then %d)", code);
      return 0;
    }
    std::printf("rthog: a notifier reader's CPU owned by an RT task: errno %d after %.2f s\n",
                code, took);
    CHECK(code == ETIMEDOUT, "notifier: errno %d, expected ETIMEDOUT", code);
    CHECK(took < 0.2 + 2.0 + 5.0, "notifier: given up after %.2f s (0.2 s + 2 s grace)", took);
  }
  // 4. The CPU free again: the given-up kthreads end, remove the notifiers
  // and let the module go.
  kill(hog, SIGKILL);
  waitpid(hog, &st, 0);
  t0 = Clock::now();
  while ((module_refcnt() != refs0 || info(fd).live_notifiers) && secs_since(t0) < 10)
    usleep(10000);
  std::printf("rthog: module refcnt %d (was %d), live notifiers %llu, %.2f s after the hog ended\n",
              module_refcnt(), refs0, static_cast<unsigned long long>(info(fd).live_notifiers),
              secs_since(t0));
  CHECK(module_refcnt() == refs0, "refcnt %d, was %d: a given-up kthread kept the module",
        module_refcnt(), refs0);
  CHECK(info(fd).live_notifiers == 0, "notifiers left after the given-up reader ended");
  return 0;
}

int test_again(int fd) {
  CHECK(info(fd).live_notifiers == 0, "notifiers live after reload");
  if (!(info(fd).features & KPL_FEAT_NOTIFIER)) return 0;
  Shared* sh = shared_page();
  pid_t pid = fork();
  if (pid == 0) nt_child(sh, 1000, 200);
  int st = 0;
  waitpid(pid, &st, 0);
  CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "notifier run after reload failed (%d)", st);
  CHECK(info(fd).live_notifiers == 0, "notifiers live after the run");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  int fd = kpltest::open_or_skip("kmod_safety_test");
  if (online_cpus() < 2) {
    std::printf("kmod_safety_test: SKIP: needs 2 online CPUs\n");
    return 77;
  }
  std::vector<std::string> sections(argv + 1, argv + argc);
  if (sections.empty()) sections = {"concurrent", "sigkill", "hotplug", "longest"};
  for (const auto& s : sections) {
    std::printf("kmod_safety_test: %s\n", s.c_str());
    std::fflush(stdout);
    if (s == "concurrent") test_concurrent(fd);
    else if (s == "sigkill") test_sigkill(fd);
    else if (s == "hotplug") test_hotplug(fd);
    else if (s == "longest") test_longest(fd);
    else if (s == "again") test_again(fd);
    else if (s == "rthog") test_rthog(fd);
    else {
      std::printf("kmod_safety_test: unknown section '%s'\n", s.c_str());
      return 2;
    }
  }
  close(fd);
  return kpltest::finish("kmod_safety_test", kpltest::checks);
}
