/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Shared between cpumask.bpf.c and the user-space probe: the arguments and
 * results of one timed batch. SYSCALL programs get it as their context
 * (BPF_PROG_TEST_RUN ctx_in); TRACING programs (kernels 6.4-6.9) find it in
 * the cm_args map under the triggering thread's id.
 */
#ifndef KPERFLAB_BENCH_CPUMASK_H
#define KPERFLAB_BENCH_CPUMASK_H

#if !defined(__VMLINUX_H__)
#include <linux/types.h>
#endif

enum kpl_cm_density {
	KPL_CM_EMPTY = 0,	/* masks start empty */
	KPL_CM_HALF = 1,	/* every other CPU set */
	KPL_CM_FULL = 2,	/* every CPU < nr_cpus set */
};

struct kpl_cm_args {
	__u64 n;		/* (in) iterations of the operation */
	__u64 elapsed_ns;	/* (out) time of the n iterations */
	__u64 result;		/* (out) sum of the operation's results */
	__u32 cpu;		/* (in) bit the *_cpu operations use */
	__u32 density;		/* (in) enum kpl_cm_density of the masks */
	__u32 nr_cpus;		/* (in) nr_cpu_ids */
	__s32 error;		/* (out) 0, or -ENOMEM when a mask could not be made;
				 * user space presets KPL_CM_NOT_RUN */
	__u32 op;		/* (in) id: position in cpumask_ops.def (TRACING) */
	__u32 reserved;
	__u64 iterations;	/* (out) iterations the loop ran, counted from its
				 * indices; user space rejects a batch where this
				 * differs from n */
};

#define KPL_CM_NOT_RUN 1
/*
 * Iterations one open-coded loop may run: bpf_iter_num_new() refuses a
 * range longer than BPF_MAX_LOOPS (8M, kernel/bpf/bpf_iter.c) with -E2BIG
 * and the loop then runs zero times. A batch of n runs ceil(n / this)
 * inner loops of (nearly) equal length.
 */
#define KPL_CM_INNER_MAX (8u * 1024 * 1024)
/* The setall+weight correctness program follows the timed operations. */
#define KPL_CM_CHECK_ID 1000

#endif
