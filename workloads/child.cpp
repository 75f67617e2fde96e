// SPDX-License-Identifier: GPL-2.0-only
#include "child.h"

#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

namespace kperflab::workloads {

pid_t fork_bound_child() {
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid != 0) return pid;
  if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent) _exit(127);
  return 0;
}

}  // namespace kperflab::workloads
