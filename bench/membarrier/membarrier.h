/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Shared between membarrier.bpf.c and the user-space probe: per-CPU IPI
 * delivery records. Fixed-width types only; compiles on its own.
 */
#ifndef KPERFLAB_BENCH_MEMBARRIER_H
#define KPERFLAB_BENCH_MEMBARRIER_H

#include "kperflab/hist.h"

/* Delivery latencies up to 2^30 ns (~1 s); later ones count as overflow. */
#define KPL_MB_HIST_LEN KPL_HIST_LEN_1S

/* One entry per possible CPU, written only by that CPU's IPI handler. */
struct kpl_mb_cpu {
	__u64 received;	/* membarrier IPI handler runs while armed */
	__u64 queued_ts; /* csd_queue_cpu time of the pending IPI to this CPU */
	__u64 overflow;
	__u64 counts[KPL_MB_HIST_LEN];
};

#endif
