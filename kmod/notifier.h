/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The notifier probe's run and readers (KPL_IOC_NOTIFIER), shared by the
 * ioctl side (the notifiers, the window, the results) and the reader
 * kthreads.
 */
#ifndef KPERFLAB_NOTIFIER_H
#define KPERFLAB_NOTIFIER_H

#include <linux/atomic.h>
#include <linux/mmu_notifier.h>
#include <linux/mutex.h>
#include <linux/refcount.h>
#include <linux/spinlock.h>
#include <linux/types.h>

#include "kperflab/uapi.h"

enum { H_RETRIES, H_BEGIN, H_COMMIT, H_INVAL, H_NR };

struct kpl_nt;

struct kpl_nt_sub {
	struct mmu_interval_notifier mni;
	struct kpl_nt *nt;
};

struct kpl_nt_reader {
	struct kpl_nt *nt;
	s32 cpu;
	struct task_struct *task;
	struct kpl_nt_sub *sub;
	struct kpl_nt_reader_stats st;
	u64 work_errors;
	bool moved;		/* hotplug moved it off its CPU: it stopped reading */
	unsigned long *pfns;	/* KPL_NT_WORK_HMM: one per page of the range */
	u64 *hist[H_INVAL];	/* own histograms: retries, begin wait, commit */
	u64 overflow[H_INVAL];
};

/* How long the caller waits for its readers to end after the window. */
#define KPL_NT_GRACE_MS 2000

struct kpl_nt {
	refcount_t refs;		/* the caller's and one per reader kthread */
	int stop;			/* every reader ends */
	atomic_t exited;		/* readers that ended */
	u32 nr_tasks;			/* reader kthreads created */
	bool started;			/* woken: their tasks are no longer ours to touch */
	struct kpl_nt_req req;
	struct mutex lock;		/* the "driver lock" */
	spinlock_t stat_lock;		/* invalidate counters and histogram */
	struct kpl_nt_sub *subs;
	u32 nr_subs;			/* inserted so far */
	struct kpl_nt_reader *readers;
	u64 *inval_hist;
	struct mm_struct *mm;		/* the caller's, mmget while readers may use it */
	bool running;
};

/* notifier_reader.c: the reader kthreads, created, started and stopped. */
int kpl_nt_make_readers(struct kpl_nt *nt);
int kpl_nt_start_readers(struct kpl_nt *nt);
int kpl_nt_stop_readers(struct kpl_nt *nt);
/* notifier.c: drops a reference; the last one frees the run. */
void kpl_nt_put(struct kpl_nt *nt);

#endif
