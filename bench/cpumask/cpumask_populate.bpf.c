// SPDX-License-Identifier: GPL-2.0-only
/*
 * bpf_cpumask_populate (6.15+) in an object of its own: kernels before 6.15
 * lack the kfunc, and keeping it out of cpumask.bpf.c keeps that object
 * loadable there whatever libbpf makes of an unresolved kfunc. Same batch
 * method as cpumask.bpf.c, with its own baseline.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#include "cpumask_bench.bpf.h"

char LICENSE[] SEC("license") = "GPL";

int bpf_cpumask_populate(struct cpumask *cpumask, void *src, size_t src__sz) __ksym __weak;

/* Source bitmap: 8192 bits covers any NR_CPUS Debian builds with; populate
 * requires at least bitmap_size(nr_cpu_ids) bytes. Alternating bits. */
__u64 pop_src[128] = {[0 ... 127] = 0x5555555555555555ULL};

BENCH(pop_baseline, 0, acc += i)
BENCH(populate, 0, acc += bpf_cpumask_populate((struct cpumask *)m, pop_src, sizeof(pop_src)))
