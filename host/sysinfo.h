// SPDX-License-Identifier: GPL-2.0-only
// Host and kernel provenance: everything a reader needs to know what a
// measurement ran on. Every field is collected or null with a reason.
#pragma once

#include "core/host_info.h"

namespace kperflab {

// Collects everything from /proc, /sys and uname (cheap, < 100 ms).
HostInfo collect_host_info();

// Online CPUs now (sysconf), at least 1: what --set checks and plans assume.
unsigned online_cpu_count();

}  // namespace kperflab
