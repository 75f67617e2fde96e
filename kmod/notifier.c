// SPDX-License-Identifier: GPL-2.0-only
/*
 * mmu_interval_notifier read-retry probe (KPL_IOC_NOTIFIER). The pattern
 * is the one of lib/test_hmm.c: invalidate takes the driver lock (trylock
 * and return false when the range is not blockable) and sets the sequence
 * under it; readers run read_begin -> work -> driver lock -> read_retry ->
 * commit. Everything (notifiers, kthreads) lives inside one ioctl call,
 * unless a reader's CPU is owned by an RT task past the window: the caller
 * waits for its readers killably and for at most KPL_NT_GRACE_MS, then
 * gives the run up (-ETIMEDOUT, or -EINTR on a fatal signal). The readers
 * hold references to the run and to the module, and the last of them to
 * end removes the notifiers, drops the mm and frees the run; nothing stops
 * a reader from outside (no kthread_stop, which waits uninterruptibly).
 * The reader kthreads are in notifier_reader.c, the shared structures in
 * notifier.h.
 */
#include <linux/atomic.h>
#include <linux/capability.h>
#include <linux/cpu.h>
#include <linux/cpumask.h>
#include <linux/delay.h>
#include <linux/hmm.h>
#include <linux/kthread.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/mmu_notifier.h>
#include <linux/mutex.h>
#include <linux/overflow.h>
#include <linux/refcount.h>
#include <linux/sched.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/timekeeping.h>
#include <linux/uaccess.h>

#include "kperflab/uapi.h"
#include "kperflab/hist.h"
#include "kperflab.h"
#include "notifier.h"

/* The kernel's event values are not ABI: map them by name. */
static u32 kpl_nt_event(enum mmu_notifier_event ev)
{
	switch (ev) {
	case MMU_NOTIFY_UNMAP:
		return KPL_NT_EV_UNMAP;
	case MMU_NOTIFY_CLEAR:
		return KPL_NT_EV_CLEAR;
	case MMU_NOTIFY_PROTECTION_VMA:
		return KPL_NT_EV_PROTECTION_VMA;
	case MMU_NOTIFY_PROTECTION_PAGE:
		return KPL_NT_EV_PROTECTION_PAGE;
	case MMU_NOTIFY_SOFT_DIRTY:
		return KPL_NT_EV_SOFT_DIRTY;
	case MMU_NOTIFY_RELEASE:
		return KPL_NT_EV_RELEASE;
	case MMU_NOTIFY_MIGRATE:
		return KPL_NT_EV_MIGRATE;
	case MMU_NOTIFY_EXCLUSIVE:
		return KPL_NT_EV_EXCLUSIVE;
	default:
		return KPL_NT_EV_OTHER;
	}
}

/* Inserted and not removed, machine-wide (KPL_IOC_INFO): a leak check. */
static atomic64_t kpl_nt_live = ATOMIC64_INIT(0);

u64 kpl_live_notifiers(void)
{
	return atomic64_read(&kpl_nt_live);
}

static bool kpl_nt_invalidate(struct mmu_interval_notifier *mni,
			      const struct mmu_notifier_range *range,
			      unsigned long cur_seq)
{
	struct kpl_nt_sub *s = container_of(mni, struct kpl_nt_sub, mni);
	struct kpl_nt *nt = s->nt;
	unsigned long flags;
	u64 t0 = ktime_get_ns(), dt;
	u32 ev = kpl_nt_event(range->event);
	bool full = range->start <= mni->interval_tree.start &&
		    range->end - 1 >= mni->interval_tree.last;

	if (mmu_notifier_range_blockable(range)) {
		mutex_lock(&nt->lock);
	} else if (!mutex_trylock(&nt->lock)) {
		spin_lock_irqsave(&nt->stat_lock, flags);
		nt->req.inval_nonblock_fail++;
		spin_unlock_irqrestore(&nt->stat_lock, flags);
		return false;
	}
	mmu_interval_set_seq(mni, cur_seq);
	mutex_unlock(&nt->lock);
	dt = ktime_get_ns() - t0;

	spin_lock_irqsave(&nt->stat_lock, flags);
	nt->req.invalidations[ev]++;
	if (full)
		nt->req.inval_full++;
	else
		nt->req.inval_partial++;
	if (nt->inval_hist)
		kpl_hist_record(nt->inval_hist, nt->req.hist_len, &nt->req.overflow[H_INVAL], dt);
	spin_unlock_irqrestore(&nt->stat_lock, flags);
	return true;
}

static const struct mmu_interval_notifier_ops kpl_nt_ops = {
	.invalidate = kpl_nt_invalidate,
};

static int kpl_nt_check(const struct kpl_nt_req *q)
{
	u64 span;

	if (!kpl_reserved_zero(q->reserved, ARRAY_SIZE(q->reserved)))
		return -EINVAL;
	if (q->work_kind == KPL_NT_WORK_HMM) {
		if (!IS_ENABLED(CONFIG_HMM_MIRROR))
			return -EOPNOTSUPP;
		if (q->range_len > KPL_NT_MAX_HMM_BYTES)
			return -EINVAL;
	} else if (q->work_kind != KPL_NT_WORK_BUSY) {
		return -EINVAL;
	}
	if (!q->nr_notifiers || q->nr_notifiers > KPL_NT_MAX_NOTIFIERS ||
	    q->nr_readers > KPL_NT_MAX_READERS || q->work_ns > KPL_NT_MAX_WORK_NS ||
	    !q->duration_ms || q->duration_ms > KPL_MAX_MS ||
	    !q->hist_len || q->hist_len > KPL_MAX_HIST_LEN)
		return -EINVAL;
	if (!PAGE_ALIGNED(q->addr) || !q->range_len || !PAGE_ALIGNED(q->range_len) ||
	    !PAGE_ALIGNED(q->stride) || (q->nr_readers && !q->cpus))
		return -EINVAL;
	if (check_mul_overflow(q->stride, (u64)(q->nr_notifiers - 1), &span) ||
	    check_add_overflow(span, q->range_len, &span) ||
	    span > TASK_SIZE || q->addr > TASK_SIZE - span)
		return -EINVAL;
	/* reader kthreads take CPUs from other work for the whole window */
	if (q->nr_readers && !capable(CAP_SYS_ADMIN))
		return -EPERM;
	return 0;
}

static int kpl_nt_insert(struct kpl_nt *nt)
{
	const struct kpl_nt_req *q = &nt->req;
	int ret;

	nt->subs = kvcalloc(q->nr_notifiers, sizeof(*nt->subs), GFP_KERNEL_ACCOUNT);
	if (!nt->subs)
		return -ENOMEM;
	while (nt->nr_subs < q->nr_notifiers) {
		struct kpl_nt_sub *s = &nt->subs[nt->nr_subs];

		s->nt = nt;
		ret = mmu_interval_notifier_insert(&s->mni, current->mm,
						   q->addr + q->stride * nt->nr_subs,
						   q->range_len, &kpl_nt_ops);
		if (ret)
			return ret;
		/*
		 * Counted before anything can return: teardown removes exactly
		 * nr_subs notifiers, and one left in the mm's interval tree
		 * would be freed while exit_mmap() can still call it.
		 */
		nt->nr_subs++;
		atomic64_inc(&kpl_nt_live);
		if (signal_pending(current))
			return -EINTR;
		cond_resched_tasks_rcu_qs();
	}
	return 0;
}

/* The timed window: readers run, the caller's other threads invalidate. */
static int kpl_nt_window(struct kpl_nt *nt)
{
	u32 __user *ready = u64_to_user_ptr(nt->req.ready);
	u64 t0 = ktime_get_ns(), end = t0 + (u64)nt->req.duration_ms * NSEC_PER_MSEC;
	int ret = 0;

	if (ready && put_user(1U, ready))
		return -EFAULT;
	WRITE_ONCE(nt->running, true);
	while (ktime_get_ns() < end) {
		if (signal_pending(current)) {
			ret = -EINTR;
			break;
		}
		msleep_interruptible(min_t(u64, 10,
					   div_u64(end - ktime_get_ns(), NSEC_PER_MSEC) + 1));
	}
	WRITE_ONCE(nt->running, false);
	nt->req.elapsed_ns = ktime_get_ns() - t0;
	if (ready && put_user(2U, ready))
		return -EFAULT;
	return ret;
}

/* Notifiers removed: no callback runs after this. */
static void kpl_nt_remove(struct kpl_nt *nt)
{
	u32 i;

	for (i = 0; i < nt->nr_subs; i++) {
		mmu_interval_notifier_remove(&nt->subs[i].mni);
		atomic64_dec(&kpl_nt_live);
	}
	nt->nr_subs = 0;
}

static void kpl_nt_free(struct kpl_nt *nt)
{
	u32 i;
	int h;

	kpl_nt_remove(nt);
	if (nt->mm)
		mmput(nt->mm);
	kvfree(nt->subs);
	for (i = 0; nt->readers && i < nt->req.nr_readers; i++) {
		for (h = 0; h < H_INVAL; h++)
			kvfree(nt->readers[i].hist[h]);
		kvfree(nt->readers[i].pfns);
	}
	kfree(nt->readers);
	kvfree(nt->inval_hist);
	kfree(nt);
}

/* The last reference (the caller's, or a reader's that ended after the
 * caller gave the run up) removes the notifiers, drops the mm, frees.
 */
void kpl_nt_put(struct kpl_nt *nt)
{
	if (refcount_dec_and_test(&nt->refs))
		kpl_nt_free(nt);
}

/* Sums the readers into req and histogram h into buf; copies buf out. */
static int kpl_nt_copy_hist(struct kpl_nt *nt, int h, u64 *buf, __u64 uptr)
{
	u32 i, k;

	if (!uptr)
		return 0;
	memset(buf, 0, nt->req.hist_len * sizeof(u64));
	if (h == H_INVAL) {
		memcpy(buf, nt->inval_hist, nt->req.hist_len * sizeof(u64));
	} else {
		for (i = 0; i < nt->req.nr_readers; i++) {
			struct kpl_nt_reader *r = &nt->readers[i];

			nt->req.overflow[h] += r->overflow[h];
			for (k = 0; r->hist[h] && k < nt->req.hist_len; k++)
				buf[k] += r->hist[h][k];
		}
	}
	return copy_to_user(u64_to_user_ptr(uptr), buf, nt->req.hist_len * sizeof(u64)) ?
	       -EFAULT : 0;
}

static int kpl_nt_copy_out(struct kpl_nt *nt, void __user *u, u32 usize)
{
	struct kpl_nt_req *q = &nt->req;
	const __u64 ptrs[H_NR] = { q->hist_retries, q->hist_begin_wait, q->hist_commit,
				   q->hist_invalidate };
	struct kpl_nt_reader_stats __user *us = u64_to_user_ptr(q->reader_stats);
	u64 *buf;
	u32 i;
	int h, ret = 0;

	for (i = 0; i < q->nr_readers; i++) {
		struct kpl_nt_reader_stats *st = &nt->readers[i].st;

		q->attempts += st->attempts;
		q->successes += st->successes;
		q->retries += st->retries;
		q->work_errors += nt->readers[i].work_errors;
		q->readers_moved += nt->readers[i].moved;
		if (us && copy_to_user(us + i, st, sizeof(*st)))
			return -EFAULT;
	}
	buf = kvcalloc(q->hist_len, sizeof(u64), GFP_KERNEL_ACCOUNT);
	if (!buf)
		return -ENOMEM;
	for (h = 0; h < H_NR && !ret; h++)
		ret = kpl_nt_copy_hist(nt, h, buf, ptrs[h]);
	kvfree(buf);
	if (!ret)
		ret = kpl_copy_resp(u, q, sizeof(*q), usize);
	return ret;
}

static void kpl_nt_zero_out(struct kpl_nt_req *q)
{
	memset(q->overflow, 0, sizeof(q->overflow));
	memset(q->invalidations, 0, sizeof(q->invalidations));
	q->inval_full = 0;
	q->inval_partial = 0;
	q->inval_nonblock_fail = 0;
	q->attempts = 0;
	q->successes = 0;
	q->retries = 0;
	q->elapsed_ns = 0;
	q->work_errors = 0;
	q->readers_moved = 0;
}

long kpl_notifier_ioctl(void __user *u)
{
	struct kpl_nt *nt;
	u32 usize;
	int ret, run;

	if (!current->mm)
		return -EINVAL;
	nt = kzalloc(sizeof(*nt), GFP_KERNEL_ACCOUNT);
	if (!nt)
		return -ENOMEM;
	refcount_set(&nt->refs, 1);
	ret = kpl_copy_req(&nt->req, sizeof(nt->req), u, &usize);
	if (!ret)
		ret = kpl_nt_check(&nt->req);
	if (ret)
		goto out;
	/* outputs start from zero whatever the caller left in them */
	kpl_nt_zero_out(&nt->req);
	mutex_init(&nt->lock);
	spin_lock_init(&nt->stat_lock);
	/*
	 * The caller is a user of its mm for the whole call; the readers
	 * (KPL_NT_WORK_HMM) lock and fault it, so it is pinned explicitly.
	 */
	nt->mm = current->mm;
	mmget(nt->mm);
	nt->inval_hist = kvcalloc(nt->req.hist_len, sizeof(u64), GFP_KERNEL_ACCOUNT);
	nt->readers = kcalloc(max(nt->req.nr_readers, 1U), sizeof(*nt->readers),
			      GFP_KERNEL_ACCOUNT);
	ret = (nt->inval_hist && nt->readers) ? kpl_nt_insert(nt) : -ENOMEM;
	if (!ret)
		ret = kpl_nt_make_readers(nt);
	if (!ret)
		ret = kpl_nt_start_readers(nt);
	if (ret)
		goto out_teardown;
	run = kpl_nt_window(nt);
	ret = kpl_nt_stop_readers(nt);
	if (ret)
		goto out_given_up;
	kpl_nt_remove(nt);
	ret = kpl_nt_copy_out(nt, u, usize);
	if (!ret)
		ret = run;
out:
	kpl_nt_put(nt);
	return ret;
out_teardown:
	if (!kpl_nt_stop_readers(nt))
		goto out;
out_given_up:
	if (!fatal_signal_pending(current))
		pr_warn_ratelimited("kperflab: notifier: %u of %u reader kthreads did not end within %u ms (an RT task owns their CPU?): the run is given up to them\n",
				    nt->nr_tasks - (u32)atomic_read(&nt->exited), nt->nr_tasks,
				    KPL_NT_GRACE_MS);
	if (!ret)
		ret = -ETIMEDOUT;
	goto out;
}
