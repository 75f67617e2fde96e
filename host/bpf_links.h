// SPDX-License-Identifier: GPL-2.0-only
// The BPF links this process holds open (#28): a link is attached for as
// long as an fd refers to it, so a probe that ends with links still open
// leaves its programs on the host's hot paths through the next probes, the
// "none" overhead baselines and until kperflab exits. The runner counts
// them before and after every probe.
#pragma once

namespace kperflab {

// Open fds of this process that are BPF links (/proc/self/fd entries that
// read "anon_inode:bpf_link"); -1 when /proc/self/fd cannot be read.
int open_bpf_links();

}  // namespace kperflab
