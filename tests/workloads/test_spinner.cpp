// SPDX-License-Identifier: GPL-2.0-only
// Nothing we start outlives us: a ForeignSpinner's child dies with the
// process that forked it, however that process ends (here: SIGKILL, so no
// destructor runs). This test process is a child subreaper, so the orphan
// is reparented to us and its end can be observed and reaped.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "child.h"
#include "spinner.h"

using namespace kperflab::workloads;

namespace {

// Waits (at most `limit`) for `pid` to end, reaping it when it is our child.
bool ends_within(pid_t pid, std::chrono::seconds limit) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    int st;
    pid_t r = waitpid(pid, &st, WNOHANG);
    if (r == pid || (r < 0 && errno == ECHILD && kill(pid, 0) != 0)) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

TEST(ForeignSpinner, DiesWithTheProcessThatStartedIt) {
  ASSERT_EQ(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  pid_t parent = fork();
  ASSERT_GE(parent, 0);
  if (parent == 0) {  // the "kperflab" that gets SIGKILLed
    close(fds[0]);
    ForeignSpinner s(0);
    int pid = s.pid();
    (void)!write(fds[1], &pid, sizeof pid);
    pause();
    _exit(0);
  }
  close(fds[1]);
  int spinner = -1;
  ASSERT_EQ(read(fds[0], &spinner, sizeof spinner), ssize_t(sizeof spinner));
  close(fds[0]);
  ASSERT_GT(spinner, 0);
  ASSERT_EQ(kill(spinner, 0), 0) << "the spinner runs while its parent lives";
  kill(parent, SIGKILL);
  waitpid(parent, nullptr, 0);
  bool gone = ends_within(spinner, std::chrono::seconds(10));
  if (!gone) kill(spinner, SIGKILL), waitpid(spinner, nullptr, 0);
  EXPECT_TRUE(gone) << "spinner pid " << spinner << " outlived the process that forked it";
  prctl(PR_SET_CHILD_SUBREAPER, 0);
}

// Two spinners pinned to one CPU share it: their CPU times over a window sum
// to at most its wall time, so the smaller share is at most about a half,
// whatever else runs on the machine.
TEST(Spinners, TwoSpinnersOnOneCpuReportAtMostHalfEach) {
  Spinners s({{0, ThreadState::spin}, {0, ThreadState::spin}});
  EXPECT_FALSE(s.spin_on_cpu_fraction()) << "no window marked yet";
  s.mark();
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  auto f = s.spin_on_cpu_fraction();
  ASSERT_TRUE(f);
  EXPECT_GT(*f, 0.0);
  EXPECT_LT(*f, 0.6);
}

TEST(Spinners, OneSpinnerShareIsAFractionOfTheWindow) {
  Spinners s({{0, ThreadState::spin}, {0, ThreadState::sleep}});
  s.mark();
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  auto f = s.spin_on_cpu_fraction();
  ASSERT_TRUE(f);
  EXPECT_GT(*f, 0.0);
  EXPECT_LE(*f, 1.02);  // clock reads are not simultaneous
}

TEST(Spinners, SleepersAloneHaveNoShare) {
  Spinners s({{0, ThreadState::sleep}});
  s.mark();
  EXPECT_FALSE(s.spin_on_cpu_fraction());
}

TEST(ForkBoundChild, ChildOfADeadParentDoesNotRun) {
  // The parent forks and exits at once; the child, if the race was lost,
  // must notice it is orphaned and exit rather than run on.
  ASSERT_EQ(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
  for (int i = 0; i < 20; ++i) {
    pid_t parent = fork();
    ASSERT_GE(parent, 0);
    if (parent == 0) {
      pid_t c = fork_bound_child();
      if (c == 0) {
        for (;;) pause();  // killed by SIGKILL when the parent is gone
      }
      _exit(0);
    }
    waitpid(parent, nullptr, 0);
    // Reap whatever was reparented to us; nothing may be left running.
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    bool clean = false;
    while (!clean && std::chrono::steady_clock::now() < deadline) {
      pid_t r = waitpid(-1, nullptr, WNOHANG);
      clean = r < 0 && errno == ECHILD;
      if (r == 0) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    EXPECT_TRUE(clean) << "a child of round " << i << " is still running";
  }
  prctl(PR_SET_CHILD_SUBREAPER, 0);
}

}  // namespace
