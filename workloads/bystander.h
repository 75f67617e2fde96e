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
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

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

// Median of v; NaN for none.
double median_of(std::vector<double> v);

}  // namespace kperflab::workloads

namespace kperflab {
class Repetition;
}

namespace kperflab::workloads {

// Runs bystander_rates on cpu and records, under `base` (effect/bystander):
// rounds_per_s_detached, rounds_per_s_attached and ratio (attached over
// detached), labelled with the cpu, rounds, window, the windows' own noise
// (1.4826 MAD / median, the larger state's: show flags a slowdown only past
// twice it) and `labels`. A failure or ^C is a skip of `base` with the reason:
// nothing half-measured is stored. Returns the ratio (NaN: none). Every
// probe that attaches programs measures its cost to the host's other
// processes with this (#28).
double record_bystander(Repetition& rep, int cpu, int rounds, uint64_t window_ms,
                      const std::function<void(bool on)>& set, const std::function<bool()>& stop,
                      const nlohmann::json& labels = nlohmann::json::object(),
                      const std::string& base = "effect/bystander");

// record_bystander for a load of ours instead of attached programs (the
// module probes, #28): `step`, one short unit of the load (e.g. a 20 ms
// ioctl), runs back to back in a thread of ours through every "on" window
// and stops within one step of its end. A step that throws ends the windows:
// a skip naming `what` and the error.
double record_bystander_under_load(Repetition& rep, int cpu, int rounds, uint64_t window_ms,
                                   const std::function<void()>& step,
                                   const std::function<bool()>& stop, const std::string& what,
                                   const nlohmann::json& labels = nlohmann::json::object());

}  // namespace kperflab::workloads
