// SPDX-License-Identifier: GPL-2.0-only
// The bystander process (workloads/bystander.h, #28): it runs rounds on its
// CPU as its own process, the windows alternate off and on as asked, a CPU
// it cannot run on is an error naming it, and it is gone after its owner.
#include "bystander.h"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <system_error>
#include <thread>

#include <gtest/gtest.h>

using kperflab::workloads::Bystander;
using kperflab::workloads::bystander_rates;

TEST(Bystander, RunsRoundsOnItsCpu) {
  uint64_t before;
  {
    Bystander b(0);
    EXPECT_EQ(b.cpu(), 0);
    before = b.rounds();
    // Progress, not a rate: a loaded machine gives it little CPU.
    auto t0 = std::chrono::steady_clock::now();
    while (b.rounds() < before + 3 && std::chrono::steady_clock::now() - t0 < std::chrono::seconds(20))
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    EXPECT_GE(b.rounds(), before + 3) << "no rounds in 20 s";
  }
}

TEST(Bystander, ACpuItCannotRunOnIsAnError) {
  try {
    Bystander b(CPU_SETSIZE - 1);
    FAIL() << "pinned to CPU " << CPU_SETSIZE - 1;
  } catch (const std::system_error& e) {
    EXPECT_NE(std::string(e.what()).find("pinning the process to CPU " +
                                         std::to_string(CPU_SETSIZE - 1)),
              std::string::npos)
        << e.what();
  }
}

// The windows alternate off on, on off, ... and set(false) ends them.
TEST(Bystander, WindowsAlternateAndEndDetached) {
  std::vector<bool> calls;
  auto r = bystander_rates(0, 3, 50, [&](bool on) { calls.push_back(on); }, [] { return false; });
  EXPECT_EQ(r.cpu, 0);
  EXPECT_EQ(r.off.size(), 3u);
  EXPECT_EQ(r.on.size(), 3u);
  std::vector<bool> want = {false, true, true, false, false, true, false};
  EXPECT_EQ(calls, want);
  for (double x : r.off) EXPECT_GE(x, 0.0);
}

// A stop request ends the windows early, detached; no partial window kept.
TEST(Bystander, StopEndsTheWindows) {
  int n = 0;
  bool last = true;
  auto r = bystander_rates(
      0, 50, 50, [&](bool on) { last = on; }, [&] { return ++n > 200; });
  EXPECT_FALSE(last);
  EXPECT_LT(r.off.size() + r.on.size(), 100u);
}
