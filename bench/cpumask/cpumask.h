/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Shared between cpumask.bpf.c and the user-space probe: the context of one
 * timed batch (BPF_PROG_TEST_RUN ctx_in/ctx_out of a SYSCALL program).
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
	__s32 error;		/* (out) 0, or -ENOMEM when a mask could not be made */
};

#endif
