// SPDX-License-Identifier: GPL-2.0-only
#include "order_child.h"

#include <sched.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <algorithm>
#include <cstdlib>
#include <cerrno>
#include <fcntl.h>
#include <system_error>
#include <cstring>
#include <stdexcept>
#include <thread>

#include "commands.h"
#include "ipi_count.h"
#include "workloads/child.h"
#include "workloads/cpu_relax.h"
#include "workloads/spinner.h"

namespace kperflab::membarrier {

const char* to_string(RegOrder o) {
  switch (o) {
    case RegOrder::none: return "none";
    case RegOrder::before_threads: return "before_threads";
    case RegOrder::after_threads: return "after_threads";
  }
  return "?";
}

enum : int32_t { kOpCalls = 1, kOpLitmus = 2 };

struct OrderChild::Req {
  int32_t op = 0, cmd = 0;
  uint64_t n = 0, max_ns = 0;
};

// A request's answer: err (errno of a failed call) and the counts.
struct OrderChild::Ans {
  int32_t err = 0;
  uint64_t v[8] = {};
};

namespace {

// One cache line per variable: x and y must not share a line, or the
// coherence protocol orders the two stores and hides the reordering.
struct alignas(64) Slot {
  std::atomic<uint64_t> v{0};
};

struct Shared {
  Slot x, y;
  Slot trial;   // trial number, published by the caller (release)
  Slot start;   // the target thread's start time (ticks) for that trial
  Slot done;    // the last trial the target thread finished (release)
  Slot r2;      // its load of x
  Slot stop;
  Slot ready;   // 1: running on its CPU; 2: could not pin
};

// The thread of our mm on the target CPU: it spins (so it is rq->curr and
// an IPI target) and runs the target side of each trial the caller posts.
void target_side(Shared& s, const Clock& clk, int cpu) {
  try {
    workloads::pin_self(cpu);
  } catch (const std::exception&) {
    s.ready.v.store(2);
    return;
  }
  // As the probe's spinners: nice -20 where permitted keeps it running.
  setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), -20);
  s.ready.v.store(1);
  uint64_t seen = 0;
  while (!s.stop.v.load(std::memory_order_relaxed)) {
    uint64_t t = s.trial.v.load(std::memory_order_acquire);
    if (t == seen) {
      kpl_cpu_relax();
      continue;
    }
    seen = t;
    const uint64_t start = s.start.v.load(std::memory_order_relaxed);
    while (clk.now() < start) {
    }
    s.y.v.store(1, std::memory_order_relaxed);
    asm volatile("" ::: "memory");  // compiler barrier only: the CPU may reorder
    uint64_t r2 = s.x.v.load(std::memory_order_relaxed);
    s.r2.v.store(r2, std::memory_order_relaxed);
    s.done.v.store(t, std::memory_order_release);
  }
}

uint64_t ns_to_ticks(const Clock& clk, uint64_t ns) {
  const uint64_t probe = 1u << 24;
  uint64_t per = clk.to_ns(probe);
  return per ? static_cast<uint64_t>(static_cast<double>(ns) * probe / static_cast<double>(per)) : ns;
}

// The child's state between requests.
struct Child {
  const Clock& clk;
  Shared s;
  uint64_t seq = 0;  // trial numbers never repeat within the child

  CallsResult calls(int cmd, uint64_t n) {
    CallsResult r;
    uint64_t t0 = Clock::monotonic_ns();
    for (uint64_t i = 0; i < n; ++i) {
      if (sys_membarrier(cmd, 0, 0) < 0) {
        r.error = errno;
        break;
      }
      ++r.calls;
    }
    r.ns = Clock::monotonic_ns() - t0;
    return r;
  }

  // Where the target side starts relative to the caller's store: a spread
  // of 64 offsets, over a few hundred ns around it for the control, over
  // the whole call (it must land inside the syscall to matter) otherwise.
  void offsets(int cmd, int64_t out[64]) {
    int64_t lo, step;
    if (cmd == 0) {
      step = static_cast<int64_t>(ns_to_ticks(clk, 4));
      lo = -32 * step;
    } else {
      uint64_t t0 = clk.now();
      for (int i = 0; i < 32; ++i) sys_membarrier(cmd, 0, 0);
      int64_t call = static_cast<int64_t>((clk.now() - t0) / 32);
      lo = -call / 4;
      step = std::max<int64_t>(1, (call - lo) / 64);
    }
    for (int i = 0; i < 64; ++i) out[(i * 37) % 64] = lo + i * step;  // interleaved order
  }

  LitmusResult litmus(int cmd, uint64_t trials, uint64_t max_ns) {
    LitmusResult r;
    int64_t off[64];
    offsets(cmd, off);
    const uint64_t lead = std::max<uint64_t>(1, ns_to_ticks(clk, 3000));
    const uint64_t t_start = Clock::monotonic_ns();
    for (uint64_t i = 0; i < trials; ++i) {
      if ((i & 255) == 0 && i && Clock::monotonic_ns() - t_start > max_ns) {
        r.capped = true;
        break;
      }
      const uint64_t t = ++seq;
      s.x.v.store(0, std::memory_order_relaxed);
      s.y.v.store(0, std::memory_order_relaxed);
      const uint64_t deadline = clk.now() + lead;
      s.start.v.store(deadline + static_cast<uint64_t>(off[t % 64]), std::memory_order_relaxed);
      s.trial.v.store(t, std::memory_order_release);
      while (clk.now() < deadline) {
      }
      s.x.v.store(1, std::memory_order_relaxed);
      if (cmd) {
        if (sys_membarrier(cmd, 0, 0) < 0) r.error = errno;
      } else {
        asm volatile("" ::: "memory");
      }
      uint64_t r1 = s.y.v.load(std::memory_order_relaxed);
      // Bounded: a target thread that no longer runs ends the batch.
      while (s.done.v.load(std::memory_order_acquire) != t) {
        kpl_cpu_relax();
        if (Clock::monotonic_ns() - t_start > max_ns + 5000000000ull) {
          r.error = ETIMEDOUT;
          break;
        }
      }
      if (r.error) break;
      uint64_t r2 = s.r2.v.load(std::memory_order_relaxed);
      ++r.trials;
      if (!r1 && !r2) ++r.forbidden;
      else if (r1 && r2) ++r.both;
      else if (r2) ++r.caller_first;  // target saw x = 1, caller saw y = 0
      else ++r.target_first;
    }
    r.ns = Clock::monotonic_ns() - t_start;
    return r;
  }
};

// Whole messages; a signal (^C reaches the measuring process) only delays
// them: the caller checks stop_requested() between requests.
bool write_all(int fd, const void* p, size_t n) {
  const char* c = static_cast<const char*>(p);
  while (n) {
    ssize_t w = write(fd, c, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    c += w, n -= static_cast<size_t>(w);
  }
  return true;
}
bool read_all(int fd, void* p, size_t n) {
  char* c = static_cast<char*>(p);
  while (n) {
    ssize_t r = read(fd, c, n);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    c += r, n -= static_cast<size_t>(r);
  }
  return true;
}

}  // namespace

namespace {

// The child: prime, register and start the thread in the asked order,
// answer the set-up, then serve requests until the pipe closes.
[[noreturn]] void child_main(const Clock& clk, const OrderSetup& st, int in, int out) {
  Child c{clk, {}};
  int32_t hdr[2] = {0, 0};  // err, stage
  uint64_t v[8] = {};
  std::thread target;
  auto reg = [&] {
    for (int cmd : st.register_cmds)
      if (sys_membarrier(cmd, 0, 0) < 0 && !v[1]) v[1] = static_cast<uint64_t>(errno);
  };
  try {
    hdr[1] = 1;
    if (st.prime_target) {
      workloads::pin_self(st.target_cpu);
      uint64_t t0 = Clock::monotonic_ns();
      while (Clock::monotonic_ns() - t0 < 5000000) kpl_cpu_relax();  // run there for 5 ms
    }
    hdr[1] = 3;
    workloads::pin_self(st.caller_cpu);
    setpriority(PRIO_PROCESS, 0, -20);  // best effort, as the target thread
    if (st.order == RegOrder::before_threads) reg();
    hdr[1] = 2;
    target = std::thread(target_side, std::ref(c.s), std::cref(clk), st.target_cpu);
    while (c.s.ready.v.load() == 0) kpl_cpu_relax();
    if (c.s.ready.v.load() != 1) hdr[0] = EINVAL;
    if (!hdr[0] && st.order == RegOrder::after_threads) reg();
  } catch (const std::system_error& e) {
    hdr[0] = e.code().value();
  }
  long regs = sys_membarrier(kGetRegistrations, 0, 0);
  v[0] = static_cast<uint64_t>(regs < 0 ? -static_cast<long>(errno) : regs);
  bool ok = write_all(out, hdr, sizeof hdr) && write_all(out, v, sizeof v);
  int32_t req[2];
  uint64_t args[2];
  while (ok && !hdr[0] && read_all(in, req, sizeof req) && read_all(in, args, sizeof args)) {
    uint64_t a[8] = {};
    int32_t err = 0;
    if (req[0] == kOpCalls) {
      CallsResult r = c.calls(req[1], args[0]);
      a[0] = r.calls, a[1] = r.ns, err = r.error;
    } else {
      LitmusResult r = c.litmus(req[1], args[0], args[1]);
      a[0] = r.trials, a[1] = r.forbidden, a[2] = r.both, a[3] = r.caller_first;
      a[4] = r.target_first, a[5] = r.capped, a[6] = r.ns, err = r.error;
    }
    ok = write_all(out, &err, sizeof err) && write_all(out, a, sizeof a);
  }
  c.s.stop.v.store(1);
  if (target.joinable()) target.join();
  _exit(0);
}

}  // namespace

namespace {

constexpr const char* kChildArg = "--kperflab-membarrier-order-child";

// The child re-executes this program (/proc/self/exe): a forked mm inherits
// the parent's membarrier registrations (dup_mm copies membarrier_state;
// seen: a child of the registered probe reported 0x154 before registering),
// and only exec (membarrier_exec_mmap) starts from none. This constructor
// runs in every program that links order_child.o and acts only when it was
// started as such a child: it never returns then.
std::vector<std::string> own_cmdline() {
  std::vector<std::string> out;
  int fd = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return out;
  std::string all;
  char buf[512];
  for (ssize_t n; (n = read(fd, buf, sizeof buf)) > 0 && all.size() < 4096;) all.append(buf, n);
  close(fd);
  for (size_t i = 0; i < all.size();) {
    size_t z = all.find('\0', i);
    if (z == std::string::npos) z = all.size();
    out.push_back(all.substr(i, z - i));
    i = z + 1;
  }
  return out;
}

bool to_int(const std::string& t, long& v) {
  char* end = nullptr;
  errno = 0;
  v = std::strtol(t.c_str(), &end, 10);
  return !t.empty() && !errno && *end == 0;
}

__attribute__((constructor)) void order_child_entry() {
  std::vector<std::string> a = own_cmdline();
  if (a.size() != 9 || a[1] != kChildArg) return;
  long in, out, order, caller, target, prime;
  if (!to_int(a[2], in) || !to_int(a[3], out) || !to_int(a[4], order) || !to_int(a[5], caller) ||
      !to_int(a[6], target) || !to_int(a[7], prime) || order < 0 || order > 2)
    _exit(2);
  OrderSetup st{static_cast<RegOrder>(order), {}, static_cast<int>(caller),
                static_cast<int>(target), prime != 0};
  for (size_t i = 0; a[8] != "-" && i < a[8].size();) {
    size_t c = a[8].find(',', i);
    if (c == std::string::npos) c = a[8].size();
    long cmd;
    if (!to_int(a[8].substr(i, c - i), cmd)) _exit(2);
    st.register_cmds.push_back(static_cast<int>(cmd));
    i = c + 1;
  }
  Clock clk = Clock::select();
  child_main(clk, st, static_cast<int>(in), static_cast<int>(out));
}

}  // namespace

OrderChild::OrderChild(const Clock&, const OrderSetup& s) {
  try {
    autogroup_ = std::make_unique<AutogroupHold>(-20);
    if (!autogroup_->active()) autogroup_.reset();
  } catch (const std::exception&) {
    // Not permitted (no CAP_SYS_NICE): both sides run at their own nice.
  }
  int req[2], ans[2];
  if (pipe2(req, O_CLOEXEC) != 0) throw std::runtime_error(std::string("pipe: ") + strerror(errno));
  if (pipe2(ans, O_CLOEXEC) != 0) {
    int e = errno;
    close(req[0]);
    close(req[1]);
    throw std::runtime_error(std::string("pipe: ") + strerror(e));
  }
  // Everything exec needs is built before fork: after it, in a threaded
  // process, only async-signal-safe calls.
  std::string cmds;
  for (int c : s.register_cmds) cmds += (cmds.empty() ? "" : ",") + std::to_string(c);
  std::vector<std::string> args = {"kperflab-membarrier-order-child", kChildArg,
                                   std::to_string(req[0]), std::to_string(ans[1]),
                                   std::to_string(static_cast<int>(s.order)),
                                   std::to_string(s.caller_cpu), std::to_string(s.target_cpu),
                                   s.prime_target ? "1" : "0", cmds.empty() ? "-" : cmds};
  std::vector<char*> argv;
  for (auto& x : args) argv.push_back(x.data());
  argv.push_back(nullptr);
  pid_ = workloads::fork_bound_child();
  if (pid_ < 0) {
    int e = errno;
    for (int fd : {req[0], req[1], ans[0], ans[1]}) close(fd);
    throw std::runtime_error(std::string("fork: ") + strerror(e));
  }
  if (pid_ == 0) {
    fcntl(req[0], F_SETFD, 0);  // the child's ends survive exec
    fcntl(ans[1], F_SETFD, 0);
    execv("/proc/self/exe", argv.data());
    _exit(127);
  }
  close(req[0]);
  close(ans[1]);
  to_ = req[1];
  from_ = ans[0];
  int32_t hdr[2];
  uint64_t v[8];
  if (!read_all(from_, hdr, sizeof hdr) || !read_all(from_, v, sizeof v)) {
    reap();
    throw std::runtime_error("membarrier order child died during set-up (exec of "
                             "/proc/self/exe failed?)");
  }
  info_.registrations = static_cast<long>(v[0]);
  info_.register_errno = static_cast<int>(v[1]);
  if (hdr[0]) {
    const char* step = hdr[1] == 1   ? "running on the target CPU "
                       : hdr[1] == 3 ? "pinning to the caller CPU "
                                     : "starting the thread on CPU ";
    info_.setup_error = step + std::to_string(hdr[1] == 3 ? s.caller_cpu : s.target_cpu) + ": " +
                        strerror(hdr[0]);
    reap();
    throw std::runtime_error(info_.setup_error);
  }
}

OrderChild::~OrderChild() { reap(); }

void OrderChild::reap() {
  if (pid_ <= 0) return;
  close(to_);  // the child leaves its request loop and exits
  close(from_);
  int st;
  // A child stuck in a trial is killed after 2 s.
  for (int i = 0; i < 200; ++i) {
    if (waitpid(pid_, &st, WNOHANG) == pid_) {
      pid_ = -1;
      return;
    }
    usleep(10000);
  }
  kill(pid_, SIGKILL);
  waitpid(pid_, &st, 0);
  pid_ = -1;
}

OrderChild::Ans OrderChild::ask(const Req& r) {
  int32_t req[2] = {r.op, r.cmd};
  uint64_t args[2] = {r.n, r.max_ns};
  Ans a;
  if (!write_all(to_, req, sizeof req) || !write_all(to_, args, sizeof args) ||
      !read_all(from_, &a.err, sizeof a.err) || !read_all(from_, a.v, sizeof a.v))
    throw std::runtime_error("membarrier order child stopped answering");
  return a;
}

CallsResult OrderChild::calls(int cmd, uint64_t n) {
  Ans a = ask({kOpCalls, cmd, n, 0});
  return {a.v[0], a.err, a.v[1]};
}

LitmusResult OrderChild::litmus(int cmd, uint64_t trials, uint64_t max_ns) {
  Ans a = ask({kOpLitmus, cmd, trials, max_ns});
  LitmusResult r;
  r.trials = a.v[0], r.forbidden = a.v[1], r.both = a.v[2], r.caller_first = a.v[3];
  r.target_first = a.v[4], r.capped = a.v[5] != 0, r.ns = a.v[6], r.error = a.err;
  return r;
}

namespace {
// Calls and the target's IPIs over them; false when not counted.
bool counted_block(OrderChild& c, int cmd, uint64_t n, int target, uint64_t& calls,
                   uint64_t& ipis, int& err) {
  auto before = function_call_ipis();
  CallsResult r = c.calls(cmd, n);
  auto after = function_call_ipis();
  calls += r.calls;
  if (r.error && !err) err = r.error;
  if (!before || !after || static_cast<size_t>(target) >= std::min(before->size(), after->size()))
    return false;
  ipis += (*after)[target] - (*before)[target];
  return true;
}
}  // namespace

Interleaved interleave_with_control(OrderChild& c, int cmd, int control_cmd, uint64_t calls,
                                    int target_cpu, const std::function<bool()>& stop) {
  Interleaved r;
  r.counted = true;
  for (uint64_t done = 0, i = 0; done < calls && !r.error; ++i, done += 50) {
    if (stop && stop()) {
      r.stopped = true;
      break;
    }
    uint64_t n = std::min<uint64_t>(50, calls - done);
    for (int k = 0; k < 2; ++k) {  // alternately command first and control first
      bool control = (k == 0) == (i % 2 == 1);
      r.counted &= control ? counted_block(c, control_cmd, n, target_cpu, r.control_calls,
                                           r.control_ipis, r.error)
                           : counted_block(c, cmd, n, target_cpu, r.calls, r.ipis, r.error);
    }
  }
  return r;
}

}  // namespace kperflab::membarrier
