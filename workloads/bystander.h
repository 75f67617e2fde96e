// SPDX-License-Identifier: GPL-2.0-only
// A bystander (#28): a process that is not ours, faulting on one CPU, whose
// rate says what the host's other processes pay while a probe is armed.
// Forked (its own tgid: our programs drop its events as they drop any other
// process's, after paying for being called) and pinned, it maps 1 MiB of
// anonymous memory, writes every page, unmaps it (mmap_lock for write, 256
// faults, mmap_lock for write), and counts its rounds in a page it shares
// with us. It allocates nothing and calls only async-signal-safe functions
// (it is the child of a threaded process); it dies with the thread that
// forked it (fork_bound_child) and is killed and reaped by the destructor.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <vector>

namespace kperflab::workloads {

class Bystander {
 public:
  // Throws std::system_error (the shared page, fork, or the CPU pinning,
  // which the child reports through the shared page before it starts).
  explicit Bystander(int cpu);
  ~Bystander();
  Bystander(const Bystander&) = delete;
  Bystander& operator=(const Bystander&) = delete;

  // Rounds completed so far (a round: map, fault every page, unmap).
  uint64_t rounds() const;
  int cpu() const { return cpu_; }

 private:
  void* shared_ = nullptr;  // one page shared with the child (bystander.cpp)
  pid_t pid_ = -1;
  int cpu_;
};

// A bystander's round rates (rounds/s) in `rounds` pairs of windows of
// window_ms, the observer off and on in turn (off on, on off, ...: drift
// hits both alike), each after a 20 ms settle. set(on) attaches (true) or
// detaches (false) what is observed; stop() ends the windows early (^C).
// Throws what Bystander or set() throws, after set(false).
struct BystanderRates {
  int cpu = -1;
  std::vector<double> off, on;
};
BystanderRates bystander_rates(int cpu, int rounds, uint64_t window_ms,
                               const std::function<void(bool on)>& set,
                               const std::function<bool()>& stop);

}  // namespace kperflab::workloads
