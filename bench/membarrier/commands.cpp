// SPDX-License-Identifier: GPL-2.0-only
#include "commands.h"

#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <thread>

#include "workloads/child.h"
#include "workloads/cpu_relax.h"

namespace kperflab::membarrier {

const std::vector<Command>& commands() {
  static const std::vector<Command> c = {
      {"query", kQuery, 0, false},
      {"global", kGlobal, 0, false},
      {"global_expedited", kGlobalExpedited, kRegisterGlobalExpedited, true},
      {"private_expedited", kPrivateExpedited, kRegisterPrivateExpedited, true},
      {"private_expedited_sync_core", kPrivateExpeditedSyncCore,
       kRegisterPrivateExpeditedSyncCore, true},
      {"private_expedited_rseq", kPrivateExpeditedRseq, kRegisterPrivateExpeditedRseq, true},
      {"get_registrations", kGetRegistrations, 0, false},
  };
  return c;
}

const Command* find_command(const std::string& name) {
  for (auto& c : commands())
    if (name == c.name) return &c;
  return nullptr;
}

long sys_membarrier(int cmd, unsigned flags, int cpu_id) {
  return syscall(__NR_membarrier, cmd, flags, cpu_id);
}

long query() {
  long r = sys_membarrier(kQuery, 0, 0);
  return r < 0 ? -errno : r;
}

std::string errno_text(int e) {
  const char* name = strerrorname_np(e);
  return std::string(name ? name : "E?") + " (" + std::strerror(e) + ")";
}

CallResult time_calls(const Clock& clk, int cmd, unsigned flags, int cpu_id, unsigned iters) {
  CallResult r;
  for (unsigned i = 0; i < iters; ++i) {
    uint64_t t0 = clk.now();
    long rc = sys_membarrier(cmd, flags, cpu_id);
    uint64_t t1 = clk.now();
    if (rc < 0) {
      r.error = errno;
      break;
    }
    r.latency.record(clk.to_ns(t1 - t0));
  }
  return r;
}

long long time_register_in_child(const Clock& clk, int register_cmd, unsigned threads) {
  int fds[2];
  if (pipe(fds) != 0) return -errno;
  pid_t pid = workloads::fork_bound_child();
  if (pid < 0) {
    int e = errno;
    close(fds[0]);
    close(fds[1]);
    return -e;
  }
  if (pid == 0) {
    close(fds[0]);
    // threads - 1 extra running threads make the mm multi-threaded, which
    // makes registration wait for a grace period (kernel-notes).
    std::atomic<bool> stop{false};
    std::atomic<unsigned> running{1};
    std::vector<std::thread> extra;
    for (unsigned i = 1; i < threads; ++i)
      extra.emplace_back([&stop, &running] {
        running.fetch_add(1);
        while (!stop.load(std::memory_order_relaxed)) kpl_cpu_relax();
      });
    while (running.load() < threads) kpl_cpu_relax();  // all threads on a CPU
    uint64_t t0 = clk.now();
    long rc = sys_membarrier(register_cmd, 0, 0);
    uint64_t t1 = clk.now();
    long long out = rc < 0 ? -static_cast<long long>(errno)
                           : static_cast<long long>(clk.to_ns(t1 - t0));
    stop.store(true);
    for (auto& t : extra) t.join();
    (void)!write(fds[1], &out, sizeof out);
    _exit(0);
  }
  close(fds[1]);
  long long v = -EIO;
  if (read(fds[0], &v, sizeof v) != static_cast<ssize_t>(sizeof v)) v = -EIO;
  close(fds[0]);
  waitpid(pid, nullptr, 0);
  return v;
}

}  // namespace kperflab::membarrier
