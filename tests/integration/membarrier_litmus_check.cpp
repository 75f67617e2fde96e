// SPDX-License-Identifier: GPL-2.0-only
// Issue #14: the store-buffering litmus of the membarrier probe, checked on
// the host in a fresh process (bench/membarrier/order_child.h).
//   membarrier_litmus_check control            the CPU reorders: the test can see it
//   membarrier_litmus_check private_expedited  registered PRIVATE_EXPEDITED: never
// Exit 0 pass, 1 fail, 77 skip (with the reason: fewer than 2 CPUs, the
// two sides never ran at the same time on a loaded machine).
//
// Bounded and not flaky: trials run in batches until the answer is certain
// or the budget is spent. A zero count only counts when the two sides
// overlapped (r1 == r2 == 1 seen) often enough to have shown the outcome.
#include <sched.h>

#include <cstdio>
#include <cstring>
#include <string>

#include "core/clock.h"
#include "commands.h"
#include "order_child.h"

using namespace kperflab;
using namespace kperflab::membarrier;

namespace {

// Overlapped trials (r1 == r2 == 1) without a forbidden outcome after which
// the control fails: on the 2-vCPU CI host (x86, loaded) 50,000 trials gave
// 739 forbidden outcomes for 17 overlapped ones, so 2,000 overlapped trials
// and none forbidden means the method has gone blind.
constexpr uint64_t kControlOverlapNeeded = 2000;
constexpr uint64_t kBudgetNs = 40ull * 1000000000ull;

int two_cpus(int& caller, int& target) {
  cpu_set_t set;
  sched_getaffinity(0, sizeof set, &set);
  caller = target = -1;
  for (int c = 0; c < CPU_SETSIZE && target < 0; ++c) {
    if (!CPU_ISSET(c, &set)) continue;
    if (caller < 0)
      caller = c;
    else
      target = c;
  }
  return target >= 0;
}

void print(const char* what, const LitmusResult& r) {
  std::printf("%s: %llu trials, forbidden %llu, overlapped %llu, caller first %llu, target first "
              "%llu, %.2f s\n",
              what, static_cast<unsigned long long>(r.trials),
              static_cast<unsigned long long>(r.forbidden), static_cast<unsigned long long>(r.both),
              static_cast<unsigned long long>(r.caller_first),
              static_cast<unsigned long long>(r.target_first), static_cast<double>(r.ns) / 1e9);
}

LitmusResult run(OrderChild& c, int cmd, uint64_t batch, bool stop_at_forbidden,
                 uint64_t stop_at_overlap) {
  LitmusResult t;
  while (t.ns < kBudgetNs) {
    LitmusResult b = c.litmus(cmd, batch, kBudgetNs - t.ns);
    t.trials += b.trials, t.forbidden += b.forbidden, t.both += b.both;
    t.caller_first += b.caller_first, t.target_first += b.target_first, t.ns += b.ns;
    if (b.error) {
      t.error = b.error;
      break;
    }
    if ((stop_at_forbidden && t.forbidden) || t.both >= stop_at_overlap || b.capped) break;
  }
  return t;
}

}  // namespace

int main(int argc, char** argv) {
  std::string which = argc == 2 ? argv[1] : "";
  if (which != "control" && which != "private_expedited") {
    std::fprintf(stderr, "usage: membarrier_litmus_check control|private_expedited\n");
    return 2;
  }
  int caller, target;
  if (!two_cpus(caller, target)) {
    std::printf("SKIP: needs two CPUs\n");
    return 77;
  }
  long mask = query();
  if (which == "private_expedited" && (mask < 0 || !(mask & kPrivateExpedited))) {
    std::printf("SKIP: the kernel lacks MEMBARRIER_CMD_PRIVATE_EXPEDITED (QUERY %ld)\n", mask);
    return 77;
  }
  Clock clk = Clock::select();
  try {
    if (which == "control") {
      OrderChild c(clk, {RegOrder::none, {}, caller, target, false});
      LitmusResult r = run(c, 0, 50000, true, kControlOverlapNeeded);
      print("control (compiler barrier only)", r);
      if (r.error) return std::printf("FAIL: %s\n", errno_text(r.error).c_str()), 1;
      if (r.forbidden) return std::printf("PASS: reordering seen\n"), 0;
      if (r.both < kControlOverlapNeeded) {
        std::printf("SKIP: only %llu overlapped trials in the budget (loaded machine): no "
                    "verdict\n", static_cast<unsigned long long>(r.both));
        return 77;
      }
      std::printf("FAIL: %llu overlapped trials and no reordering: the litmus cannot see it\n",
                  static_cast<unsigned long long>(r.both));
      return 1;
    }
    OrderChild c(clk, {RegOrder::before_threads, {kRegisterPrivateExpedited}, caller, target, true});
    if (c.info().register_errno)
      return std::printf("FAIL: REGISTER_PRIVATE_EXPEDITED: %s\n",
                         errno_text(c.info().register_errno).c_str()), 1;
    LitmusResult r = run(c, kPrivateExpedited, 20000, false, 1000);
    print("private_expedited (registered)", r);
    if (r.error) return std::printf("FAIL: %s\n", errno_text(r.error).c_str()), 1;
    if (r.forbidden)
      return std::printf("FAIL: %llu forbidden outcomes with PRIVATE_EXPEDITED\n",
                         static_cast<unsigned long long>(r.forbidden)), 1;
    if (r.both == 0) {
      std::printf("SKIP: the two sides never overlapped (loaded machine): a zero shows nothing\n");
      return 77;
    }
    std::printf("PASS: none forbidden in %llu trials (%llu overlapped)\n",
                static_cast<unsigned long long>(r.trials), static_cast<unsigned long long>(r.both));
    return 0;
  } catch (const std::exception& e) {
    std::printf("FAIL: %s\n", e.what());
    return 1;
  }
}
