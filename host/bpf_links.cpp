// SPDX-License-Identifier: GPL-2.0-only
#include "host/bpf_links.h"

#include <dirent.h>
#include <unistd.h>

#include <cstring>
#include <string>

namespace kperflab {

int open_bpf_links() {
  DIR* d = opendir("/proc/self/fd");
  if (!d) return -1;
  int n = 0;
  char target[64];
  while (dirent* e = readdir(d)) {
    if (e->d_name[0] == '.') continue;
    std::string path = std::string("/proc/self/fd/") + e->d_name;
    ssize_t len = readlink(path.c_str(), target, sizeof target - 1);
    if (len <= 0) continue;
    target[len] = '\0';
    n += std::strcmp(target, "anon_inode:bpf_link") == 0;
  }
  closedir(d);
  return n;
}

}  // namespace kperflab
