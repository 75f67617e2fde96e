// SPDX-License-Identifier: GPL-2.0-only
// Minimal reproducer: MEMBARRIER_CMD_GLOBAL_EXPEDITED sends no IPI to a CPU
// running a thread of a registered process when the process registered
// while single-threaded and the target CPU's idle task still held the
// process's mm as its lazy active_mm (README: "GLOBAL_EXPEDITED skips
// registered threads").
//
// Per round and registration order, a fresh process (order_child.h):
//   1. runs on the target CPU for 5 ms, then moves to the caller CPU (the
//      target goes idle with our mm as its lazy active_mm);
//   2. before_threads: registers GLOBAL_EXPEDITED (+ PRIVATE_EXPEDITED for
//      the control) while single-threaded, then starts a thread that
//      busy-spins pinned on the target CPU;
//      after_threads: starts the thread first, then registers;
//   3. makes --calls GLOBAL_EXPEDITED and as many PRIVATE_EXPEDITED calls,
//      in alternating blocks of 50 (interleave_with_control: the control
//      picks CPUs by rq->curr->mm, so it IPIs the target whenever the
//      spinner is running there).
// The target CPU's "Function call interrupts" (/proc/interrupts) are
// counted over each batch.
//
// Exit: 0 ran (the verdict is printed); with --check: 0 the two orders
// differ (reproduced), 77 not reproduced or cannot run, with the reason;
// 1 error; 2 usage.
#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "core/clock.h"
#include "commands.h"
#include "ipi_count.h"
#include "order_child.h"

using namespace kperflab;
using namespace kperflab::membarrier;

namespace {

struct Options {
  unsigned rounds = 3;
  uint64_t calls = 10000;
  int caller = -1, target = -1;
  bool check = false;
};

[[noreturn]] void usage(const char* why) {
  std::fprintf(stderr,
               "%s\nusage: membarrier_repro_global_skip [--rounds N (1-100)] [--calls N "
               "(1-1000000)] [--caller CPU] [--target CPU] [--check]\n",
               why);
  std::exit(2);
}

uint64_t number(const char* opt, const char* v, uint64_t lo, uint64_t hi) {
  char* end = nullptr;
  errno = 0;
  unsigned long long n = v ? std::strtoull(v, &end, 10) : 0;
  if (!v || *v == '-' || errno || *end || n < lo || n > hi)
    usage((std::string(opt) + ": '" + (v ? v : "") + "' is not a number in " +
           std::to_string(lo) + ".." + std::to_string(hi))
              .c_str());
  return n;
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    const char* v = i + 1 < argc ? argv[i + 1] : nullptr;
    if (a == "--rounds") o.rounds = static_cast<unsigned>(number("--rounds", v, 1, 100)), ++i;
    else if (a == "--calls") o.calls = number("--calls", v, 1, 1000000), ++i;
    else if (a == "--caller") o.caller = static_cast<int>(number("--caller", v, 0, 4095)), ++i;
    else if (a == "--target") o.target = static_cast<int>(number("--target", v, 0, 4095)), ++i;
    else if (a == "--check") o.check = true;
    else usage(("unknown argument '" + a + "'").c_str());
  }
  return o;
}

// GET_REGISTRATIONS (6.3+) as hex, or why not.
std::string registrations(long r) {
  if (r < 0) return "unknown (GET_REGISTRATIONS: " + errno_text(static_cast<int>(-r)) + ")";
  char b[32];
  std::snprintf(b, sizeof b, "0x%lx", r);
  return b;
}

}  // namespace

int main(int argc, char** argv) {
  Options o = parse(argc, argv);
  const char* skip = o.check ? "SKIP" : "cannot run";
  cpu_set_t set;
  sched_getaffinity(0, sizeof set, &set);
  std::vector<int> cpus;
  for (int c = 0; c < CPU_SETSIZE; ++c)
    if (CPU_ISSET(c, &set)) cpus.push_back(c);
  if (o.caller < 0) o.caller = cpus.empty() ? 0 : cpus[0];
  if (o.target < 0) o.target = cpus.size() > 1 ? cpus[1] : -1;
  if (o.target < 0 || o.target == o.caller) {
    std::printf("%s: needs two CPUs (caller and target), %zu allowed\n", skip, cpus.size());
    return 77;
  }
  long mask = query();
  if (mask < 0 || !(mask & kGlobalExpedited) || !(mask & kPrivateExpedited)) {
    std::printf("%s: membarrier QUERY = %ld: no GLOBAL_EXPEDITED / PRIVATE_EXPEDITED\n", skip, mask);
    return 77;
  }
  std::string why;
  if (!function_call_ipis(&why)) {
    std::printf("%s: %s\n", skip, why.c_str());
    return 77;
  }
  Clock clk = Clock::select();
  // This process on the caller CPU: waking up on the target, it would switch
  // that CPU to another mm and back, which ends a skip.
  cpu_set_t mine;
  CPU_ZERO(&mine);
  CPU_SET(o.caller, &mine);
  sched_setaffinity(0, sizeof mine, &mine);
  std::printf("caller CPU %d, target CPU %d, %llu calls per batch, %u rounds\n", o.caller,
              o.target, static_cast<unsigned long long>(o.calls), o.rounds);
  bool skipped_seen = false, delivered_seen = false;
  unsigned valid = 0;
  for (unsigned round = 1; round <= o.rounds; ++round) {
    for (RegOrder order : {RegOrder::before_threads, RegOrder::after_threads}) {
      OrderSetup s{order, {kRegisterGlobalExpedited, kRegisterPrivateExpedited}, o.caller,
                   o.target, true};
      try {
        OrderChild c(clk, s);
        if (c.info().register_errno) {
          std::printf("error: REGISTER failed: %s\n", errno_text(c.info().register_errno).c_str());
          return 1;
        }
        Interleaved r = interleave_with_control(c, kGlobalExpedited, kPrivateExpedited, o.calls,
                                                o.target);
        if (r.error) {
          std::printf("error: membarrier failed: %s\n", errno_text(r.error).c_str());
          return 1;
        }
        if (!r.counted) {
          std::printf("error: lost the target's count in /proc/interrupts (CPU offline?)\n");
          return 1;
        }
        // The control's rate is the share of time the spinner ran on the
        // target; a round counts when that was a fifth or more.
        bool ok = r.control_per_call() >= 0.2;
        double rel = ok ? r.per_call() / r.control_per_call() : 0.0;
        valid += ok;
        if (ok && order == RegOrder::before_threads && rel <= 0.1) skipped_seen = true;
        if (ok && order == RegOrder::after_threads && rel >= 0.8) delivered_seen = true;
        std::printf("round %u %-14s GLOBAL_EXPEDITED: %llu IPIs to CPU %d in %llu calls (%.3f/call); "
                    "PRIVATE_EXPEDITED control: %llu in %llu (%.3f/call); GLOBAL/control %.3f%s; "
                    "registrations %s\n",
                    round, to_string(order), static_cast<unsigned long long>(r.ipis), o.target,
                    static_cast<unsigned long long>(r.calls), r.per_call(),
                    static_cast<unsigned long long>(r.control_ipis),
                    static_cast<unsigned long long>(r.control_calls), r.control_per_call(), rel,
                    ok ? "" : " [the target ran our thread < 20 % of the time: round not counted]",
                    registrations(c.info().registrations).c_str());
      } catch (const std::exception& e) {
        std::printf("error: %s\n", e.what());
        return 1;
      }
    }
    if (o.check && skipped_seen && delivered_seen) break;
  }
  double load[1] = {0};
  getloadavg(load, 1);
  if (skipped_seen && delivered_seen) {
    std::printf("VERDICT: reproduced: GLOBAL_EXPEDITED skipped the running target CPU %d when "
                "registered before the thread existed, and IPI'd it when registered after\n",
                o.target);
    return 0;
  }
  std::printf("VERDICT: not reproduced in %u rounds (%u orders counted; skip seen: %s, delivery "
              "after registering multi-threaded seen: %s; load average %.2f). The skip needs "
              "the target CPU to run no other process between the priming and the thread's "
              "start, and lasts only until the target switches to our thread from another "
              "process (that switch refreshes its runqueue state): on a busy machine it may not "
              "show. A kernel whose single-threaded registration updates every CPU's runqueue "
              "state shows no skip.\n",
              o.rounds, valid, skipped_seen ? "yes" : "no", delivered_seen ? "yes" : "no", load[0]);
  if (o.check) {
    std::printf("SKIP: not reproduced (see the verdict)\n");
    return 77;
  }
  return 0;
}
