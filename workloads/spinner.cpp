// SPDX-License-Identifier: GPL-2.0-only
#include "spinner.h"

#include "child.h"
#include "cpu_relax.h"

#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <sys/resource.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <optional>
#include <stdexcept>
#include <string>
#include <system_error>

namespace kperflab::workloads {

void pin_self(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  if (sched_setaffinity(0, sizeof set, &set) != 0)
    throw std::system_error(errno, std::generic_category(),
                            "sched_setaffinity to CPU " + std::to_string(cpu));
}

namespace {
long futex(std::atomic<uint32_t>* w, int op, uint32_t val) {
  return syscall(SYS_futex, reinterpret_cast<uint32_t*>(w), op, val, nullptr, nullptr, 0);
}
}  // namespace

namespace {

// With CONFIG_SCHED_AUTOGROUP, CFS shares a CPU between sessions first and
// applies nice only inside one: a nice -20 spinner still gets ~half a CPU
// against another session's busy process (seen: a QEMU guest of another
// session made the targets miss most IPIs). Raising our autogroup's nice
// for the lifetime of the spinners fixes that; AutogroupHold puts the old
// value back, also after a crash and when runs of one session overlap.
std::unique_ptr<AutogroupHold> raise_autogroup() {
  try {
    auto h = std::make_unique<AutogroupHold>(-20);
    if (h->active()) return h;
  } catch (const std::exception&) {
    // Not permitted (no CAP_SYS_NICE): the spinners run at their own nice.
  }
  return nullptr;
}

}  // namespace

Spinners::Spinners(const std::vector<Placement>& where)
    : where_(where), shared_(std::make_unique<Shared>()) {
  if (!spinning_cpus().empty()) autogroup_ = raise_autogroup();
  Shared* s = shared_.get();
  for (const auto& p : where_) {
    threads_.emplace_back([s, p] {
      try {
        pin_self(p.cpu);
      } catch (const std::exception&) {
        s->ready.fetch_add(1000000);  // tells the constructor pinning failed
        return;
      }
      // Nice -20 (when permitted) keeps a spinning target rq->curr on a
      // shared machine: a target preempted by other work gets no IPI and the
      // point would silently measure fewer targets. Not a real-time policy:
      // it cannot starve the CPU's kernel threads.
      if (p.state == ThreadState::spin) setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), -20);
      s->ready.fetch_add(1);
      if (p.state == ThreadState::spin) {
        while (!s->stop.load(std::memory_order_relaxed)) kpl_cpu_relax();
      } else {
        while (!s->stop.load()) futex(&s->wake, FUTEX_WAIT_PRIVATE, 0);
      }
    });
  }
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (s->ready.load() < static_cast<int>(where_.size())) {
    if (std::chrono::steady_clock::now() > deadline) break;
    std::this_thread::sleep_for(std::chrono::microseconds(100));
  }
  int r = s->ready.load();
  if (r != static_cast<int>(where_.size())) {
    stop_all();
    throw std::runtime_error(r >= 1000000 ? "a spinner thread could not be pinned to its CPU"
                                          : "spinner threads did not start within 10 s");
  }
  // Give sleepers time to reach the futex (they are not rq->curr after).
  std::this_thread::sleep_for(std::chrono::milliseconds(2));
}

Spinners::~Spinners() { stop_all(); }

void Spinners::stop_all() {
  autogroup_.reset();
  if (!shared_) return;
  shared_->stop.store(true);
  shared_->wake.store(1);
  futex(&shared_->wake, FUTEX_WAKE_PRIVATE, INT32_MAX);
  for (auto& t : threads_)
    if (t.joinable()) t.join();
  threads_.clear();
  shared_.reset();
}

namespace {
uint64_t ns_of(const timespec& t) {
  return static_cast<uint64_t>(t.tv_sec) * 1000000000ull + static_cast<uint64_t>(t.tv_nsec);
}
std::optional<uint64_t> thread_cpu_ns(std::thread& t) {
  clockid_t id;
  timespec ts;
  if (pthread_getcpuclockid(t.native_handle(), &id) != 0 || clock_gettime(id, &ts) != 0)
    return std::nullopt;
  return ns_of(ts);
}
uint64_t wall_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ns_of(ts);
}
}  // namespace

void Spinners::mark() {
  mark_cpu_ns_.assign(threads_.size(), 0);
  for (size_t i = 0; i < threads_.size(); ++i)
    if (where_[i].state == ThreadState::spin)
      if (auto v = thread_cpu_ns(threads_[i])) mark_cpu_ns_[i] = *v;
  mark_wall_ns_ = wall_ns();
}

std::optional<double> Spinners::spin_on_cpu_fraction() {
  if (mark_wall_ns_ == 0 || mark_cpu_ns_.size() != threads_.size()) return std::nullopt;
  uint64_t wall = wall_ns() - mark_wall_ns_;
  if (wall == 0) return std::nullopt;
  std::optional<double> lowest;
  for (size_t i = 0; i < threads_.size(); ++i) {
    if (where_[i].state != ThreadState::spin) continue;
    auto now = thread_cpu_ns(threads_[i]);
    if (!now || *now < mark_cpu_ns_[i]) return std::nullopt;
    double f = static_cast<double>(*now - mark_cpu_ns_[i]) / static_cast<double>(wall);
    if (!lowest || f < *lowest) lowest = f;
  }
  return lowest;
}

std::vector<int> Spinners::spinning_cpus() const {
  std::vector<int> v;
  for (auto& p : where_)
    if (p.state == ThreadState::spin) v.push_back(p.cpu);
  return v;
}

std::vector<int> Spinners::sleeping_cpus() const {
  std::vector<int> v;
  for (auto& p : where_)
    if (p.state == ThreadState::sleep) v.push_back(p.cpu);
  return v;
}

ForeignSpinner::ForeignSpinner(int cpu) {
  int ready[2];
  if (pipe(ready) != 0) throw std::system_error(errno, std::generic_category(), "pipe");
  pid_ = fork_bound_child();
  if (pid_ < 0) throw std::system_error(errno, std::generic_category(), "fork");
  if (pid_ == 0) {
    close(ready[0]);
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    char ok = sched_setaffinity(0, sizeof set, &set) == 0 ? 1 : 0;
    setpriority(PRIO_PROCESS, 0, -20);  // stay rq->curr, as our own spinners
    (void)!write(ready[1], &ok, 1);
    for (;;) kpl_cpu_relax();
  }
  close(ready[1]);
  char ok = 0;
  ssize_t n = read(ready[0], &ok, 1);
  close(ready[0]);
  if (n != 1 || !ok) {
    reap();
    throw std::runtime_error("foreign spinner could not be pinned to CPU " + std::to_string(cpu));
  }
}

ForeignSpinner::~ForeignSpinner() { reap(); }

void ForeignSpinner::reap() {
  if (pid_ <= 0) return;
  kill(pid_, SIGKILL);
  waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

}  // namespace kperflab::workloads
