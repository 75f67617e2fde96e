// SPDX-License-Identifier: GPL-2.0-only
// Threads of this process (this mm), pinned one per CPU, either busy
// spinning (they are rq->curr: membarrier IPI targets) or sleeping on a
// futex (not rq->curr: no IPI). Started and stopped as one RAII group.
#pragma once

#include <atomic>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

#include "host/sysctl_hold.h"

namespace kperflab::workloads {

enum class ThreadState { spin, sleep };

// Pins the calling thread to one CPU; throws std::system_error on failure.
void pin_self(int cpu);

class Spinners {
 public:
  struct Placement {
    int cpu;
    ThreadState state;
  };
  // Starts one thread per placement and returns once every thread runs on
  // its CPU (spinning ones have spun, sleeping ones are about to block).
  explicit Spinners(const std::vector<Placement>& where);
  ~Spinners();
  Spinners(const Spinners&) = delete;
  Spinners& operator=(const Spinners&) = delete;

  std::vector<int> spinning_cpus() const;
  std::vector<int> sleeping_cpus() const;

  // A spinning target is an IPI target only while it is rq->curr. mark()
  // starts a window; spin_on_cpu_fraction() is the smallest share of that
  // window's wall time any spinning thread spent on its CPU (its
  // CLOCK_THREAD_CPUTIME_ID, exact for a running thread), nullopt when
  // nothing spins or a clock could not be read. Below 1 the point mixed
  // calls that sent an IPI with calls that found the target preempted.
  void mark();
  std::optional<double> spin_on_cpu_fraction();

 private:
  struct Shared {
    std::atomic<bool> stop{false};
    std::atomic<uint32_t> wake{0};  // futex word for the sleepers
    std::atomic<int> ready{0};
  };
  void stop_all();
  std::vector<Placement> where_;
  std::unique_ptr<kperflab::AutogroupHold> autogroup_;  // while spinning targets run
  std::unique_ptr<Shared> shared_;
  std::vector<std::thread> threads_;
  uint64_t mark_wall_ns_ = 0;
  std::vector<uint64_t> mark_cpu_ns_;  // per thread; spinning ones used
};

// A child process pinned to a CPU and busy spinning: that CPU then runs
// another mm. Killed and reaped on destruction.
class ForeignSpinner {
 public:
  explicit ForeignSpinner(int cpu);
  ~ForeignSpinner();
  ForeignSpinner(const ForeignSpinner&) = delete;
  ForeignSpinner& operator=(const ForeignSpinner&) = delete;
  int pid() const { return pid_; }

 private:
  void reap();
  int pid_ = -1;
};

}  // namespace kperflab::workloads
