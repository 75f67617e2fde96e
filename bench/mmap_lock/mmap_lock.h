/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Shared between mmap_lock.bpf.c and the user-space probe: histogram and
 * counter slots. Fixed-width types only; compiles on its own.
 *
 * A task is "ours" when its process is the probe's (fault and writer
 * threads) or a child of it (the COW workload's children, which fault in
 * their own mm); everyone else is "other". Waits and holds are kept per
 * (ours|other) x (read|write).
 */
#ifndef KPERFLAB_BENCH_MMAP_LOCK_H
#define KPERFLAB_BENCH_MMAP_LOCK_H

#include "kperflab/hist.h"

/* Waits and holds up to 2^30 ns (~1 s); longer ones count as overflow. */
#define KPL_ML_HIST_LEN KPL_HIST_LEN_1S

enum kpl_ml_who { KPL_ML_OURS = 0, KPL_ML_OTHER = 1 };
enum kpl_ml_op { KPL_ML_READ = 0, KPL_ML_WRITE = 1 };
enum kpl_ml_kind { KPL_ML_WAIT = 0, KPL_ML_HOLD = 1 };

/* Index into the per-CPU histogram array. */
#define KPL_ML_HIST_IDX(kind, who, op) (((kind) << 2) | ((who) << 1) | (op))
#define KPL_ML_NR_HISTS 8

struct kpl_ml_hist {
	__u64 overflow;
	__u64 counts[KPL_ML_HIST_LEN];
};

/* Per (who, op); per CPU, summed by user space. */
struct kpl_ml_counts {
	__u64 start_locking;	/* mmap_lock_start_locking events */
	__u64 acquired;		/* start_locking -> acquire_returned(success) */
	__u64 failed;		/* start_locking -> acquire_returned(!success): a
				 * trylock that found the lock taken, or a killable
				 * lock cut by a fatal signal (the events do not
				 * tell them apart; trylocks emit start_locking too) */
	__u64 unpaired_acquire;	/* acquire_returned with no start_locking that is
				 * not a downgrade (task state lost: LRU eviction) */
	__u64 downgraded;	/* write -> read (counted on READ) */
	__u64 released;		/* mmap_lock_released */
	__u64 release_unmatched; /* no hold of this task on that mm: taken before
				  * the probe attached, or released by another
				  * task (mmap_read_unlock_non_owner) */
	__u64 negative;		/* end clock < start clock (two CPUs): not timed */
	__u64 slots_full;	/* a 5th lock held at once: its hold not timed */
	__u64 wait_ns_total;	/* sum of timed waits */
	__u64 wait_ns_max;
	__u64 hold_ns_total;
	__u64 hold_ns_max;
	__u64 before_arm;	/* a wait or hold that began before the point was
				 * armed (attached at go): not timed */
	__u64 state_failed;	/* no per-task state for an event: task storage
				 * refused it (recursion, memory) or the LRU
				 * update failed */
	__u64 nested_dropped;	/* a wait opened with KPL_ML_WAIT_SLOTS open in
				 * the task already: not timed */
};

#define KPL_ML_NR_COUNTS 4 /* (who << 1) | op */

/* Per-VMA lock outcomes (fexit lock_vma_under_rcu) per who. */
struct kpl_ml_vma {
	__u64 success;
	__u64 fallback;	/* NULL: the fault takes mmap_lock */
};

/* Per cgroup (the locking task's cgroup v2 id), summed over CPUs. */
struct kpl_ml_cg {
	__u64 acquired[2];	/* [op], blocking and trylock */
	__u64 waited[2];	/* timed waits */
	__u64 wait_ns_total[2];
	__u64 wait_ns_max[2];
	__u64 hold_ns_total[2];
};

/* Locks one task holds at once (fork holds two mms for write). */
#define KPL_ML_HOLD_SLOTS 4

/* Waits open at once in one task: its own, and one opened by an interrupt
 * that runs on its stack (an NMI's trylock, e.g. perf's user stack walk),
 * which must not overwrite the task's open wait. */
#define KPL_ML_WAIT_SLOTS 2

#endif
