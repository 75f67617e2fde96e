// SPDX-License-Identifier: GPL-2.0-only
// Child processes that cannot outlive us.
#pragma once

#include <sys/types.h>

namespace kperflab::workloads {

// fork(), with the child set to receive SIGKILL when the forking thread
// exits, for any reason: a SIGKILL of kperflab, a crash, an exception that
// skips a destructor. A spinner at nice -20 left under PID 1 would hold a
// CPU at 100 % until someone notices.
//
// PR_SET_PDEATHSIG fires when the *thread* that forked exits, not the
// process: fork from a thread that lives as long as the child (the runner's
// main thread does). A parent that died before the child armed the signal
// is caught by comparing getppid() with the pid read before fork.
//
// Returns as fork() does (-1 with errno on failure; 0 in the child, where
// only async-signal-safe calls are allowed in a threaded process).
pid_t fork_bound_child();

}  // namespace kperflab::workloads
