/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Shared between membarrier.bpf.c and the user-space probe: per-CPU IPI
 * delivery records and the attribution modes. Fixed-width types only;
 * compiles on its own.
 */
#ifndef KPERFLAB_BENCH_MEMBARRIER_H
#define KPERFLAB_BENCH_MEMBARRIER_H

#include "kperflab/hist.h"

/* Delivery latencies up to 2^30 ns (~1 s); later ones count as overflow. */
#define KPL_MB_HIST_LEN KPL_HIST_LEN_1S

/* CPUs whose bit the fentry send path reads from a cpumask (16 words). */
#define KPL_MB_MASK_WORDS 16
#define KPL_MB_MAX_CPUS (KPL_MB_MASK_WORDS * 64)

/*
 * How a membarrier callback on a CPU is paired with a send of ours (the
 * single measuring caller, one call in flight at a time):
 *  CSD:         csd:csd_queue_cpu records the csd pointer queued to each
 *               target; csd:csd_function_entry on the target matches it
 *               (6.5+). Exact.
 *  SEND_FENTRY: fentry smp_call_function_many_cond / smp_call_function_single
 *               marks the target CPUs of our send (its cpumask / cpu
 *               argument); the fexit closes the send; fentry on the
 *               callbacks accepts a marked CPU while the send is open
 *               (6.1: no csd tracepoints). Exact where membarrier's IPI
 *               mutex serializes senders (6.1.79+, 6.8+).
 *  CALL_WINDOW: only our membarrier() entry and exit are seen; the first
 *               callback per CPU while our call is open is taken as ours.
 *               Approximate: last resort.
 * Anything not paired is counted as foreign, never timed.
 */
enum kpl_mb_mode {
	KPL_MB_MODE_CSD = 1,
	KPL_MB_MODE_SEND_FENTRY = 2,
	KPL_MB_MODE_CALL_WINDOW = 3,
};

/* smp_call_function_many_cond's scf_flags (kernel/smp.c, 5.11+). */
#define KPL_SCF_RUN_LOCAL (1U << 1)

/*
 * One entry per possible CPU. The counters and the histogram are written
 * only on that CPU (callbacks run there with interrupts off); pend_* are
 * written by our sender before it queues the IPI and cleared by the
 * callback that consumes them.
 */
struct kpl_mb_cpu {
	__u64 received;	/* callbacks paired with a send of ours (IPIs, local runs) */
	__u64 foreign;	/* membarrier callbacks not paired with a send of ours */
	__u64 negative;	/* ours, but the callback's clock read < the send's: not timed */
	__u64 pend_csd;	/* CSD: csd pointer of our queued, not yet run, IPI here */
	__u64 pend_ts;	/* send time of that IPI (CSD, SEND_FENTRY) */
	__u64 pend_gen;	/* SEND_FENTRY: the send of ours that targets this CPU */
	__u64 done_gen;	/* CALL_WINDOW: our call a callback here was taken for */
	__u64 overflow;
	__u64 counts[KPL_MB_HIST_LEN];
};

#endif
