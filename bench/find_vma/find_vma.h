/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Shared between find_vma.bpf.c and the user-space probe: counter and
 * histogram slots. Fixed-width types only; compiles on its own.
 *
 * A source is the program a helper call came from: the perf_event program
 * on the software cpu-clock event, the same program on the hardware cycles
 * event, or the sleepable uprobe (IRQs on: no irq_work, faultable build-id
 * reads). Each source keeps its own counters and one latency histogram per
 * helper call.
 */
#ifndef KPERFLAB_BENCH_FIND_VMA_H
#define KPERFLAB_BENCH_FIND_VMA_H

#include "kperflab/hist.h"

/* Helper calls up to 2^30 ns (~1 s); longer ones count as overflow. */
#define KPL_FV_HIST_LEN KPL_HIST_LEN_1S

enum kpl_fv_source { KPL_FV_CLOCK = 0, KPL_FV_CYCLES = 1, KPL_FV_UPROBE_S = 2 };
#define KPL_FV_NR_SOURCES 3

enum kpl_fv_call { KPL_FV_FIND_VMA = 0, KPL_FV_ORACLE = 1, KPL_FV_STACK = 2 };
#define KPL_FV_NR_CALLS 3
#define KPL_FV_HIST_IDX(src, call) ((src) * KPL_FV_NR_CALLS + (call))
#define KPL_FV_NR_HISTS (KPL_FV_NR_SOURCES * KPL_FV_NR_CALLS)

/* bpf_find_vma's return value, folded. */
enum kpl_fv_outcome { KPL_FV_OK = 0, KPL_FV_EBUSY = 1, KPL_FV_ENOENT = 2, KPL_FV_OTHER = 3 };
#define KPL_FV_NR_OUTCOMES 4

/* User frames asked of bpf_get_stack (32 bytes each, in a per-CPU buffer). */
#define KPL_FV_MAX_FRAMES 16

/* Per source; per CPU, summed by user space. */
struct kpl_fv_counts {
	__u64 samples;			/* program runs on our threads while armed */
	__u64 find_vma_calls;		/* first bpf_find_vma of a run */
	__u64 find_vma[KPL_FV_NR_OUTCOMES];
	__u64 oracle_calls;		/* second bpf_find_vma, same run */
	__u64 oracle[KPL_FV_NR_OUTCOMES];
	/* The first call returned 0 (it took mmap_lock and, with IRQs off,
	 * queued the per-CPU irq_work), and the second did not see -EBUSY. */
	__u64 oracle_not_busy;
	__u64 stack_calls;		/* bpf_get_stack(USER_STACK|USER_BUILD_ID) */
	__u64 stack_errors;		/* it returned < 0 */
	__u64 stack_all_ip;		/* every frame BPF_STACK_BUILD_ID_IP */
	__u64 stack_some_ip;		/* valid and IP frames mixed */
	__u64 stack_all_valid;
	__u64 frames_valid;		/* BPF_STACK_BUILD_ID_VALID */
	__u64 frames_ip;		/* BPF_STACK_BUILD_ID_IP (fallback) */
	__u64 frames_empty;		/* BPF_STACK_BUILD_ID_EMPTY or unknown */
	__u64 negative;			/* end clock < start clock: not timed */
	/* Sleepable runs not done: another task was inside the program on
	 * this CPU (preempted there), and the per-CPU slots are its own. */
	__u64 busy_skipped;
};

struct kpl_fv_hist {
	__u64 overflow;
	__u64 counts[KPL_FV_HIST_LEN];
};

/* fentry do_mmap_read_unlock: deferred unlocks run on our threads' CPUs
 * while they were current (the irq_work runs on the CPU that queued it). */
struct kpl_fv_unlocks {
	__u64 deferred_ours;
	__u64 deferred_all;
};

#endif
