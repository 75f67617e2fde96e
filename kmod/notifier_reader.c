// SPDX-License-Identifier: GPL-2.0-only
/*
 * The notifier probe's reader kthreads (KPL_IOC_NOTIFIER, see notifier.c):
 * each runs read_begin -> work -> driver lock -> read_retry -> commit on
 * its CPU until told to stop; created, started and stopped by the run.
 */
#include <linux/atomic.h>
#include <linux/cpu.h>
#include <linux/cpumask.h>
#include <linux/hmm.h>
#include <linux/kthread.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/mmu_notifier.h>
#include <linux/mutex.h>
#include <linux/refcount.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/timekeeping.h>
#include <linux/uaccess.h>

#include "kperflab/uapi.h"
#include "kperflab/hist.h"
#include "kperflab.h"
#include "notifier.h"

static void kpl_nt_rec(struct kpl_nt_reader *r, int h, u64 v)
{
	if (r->hist[h])
		kpl_hist_record(r->hist[h], r->nt->req.hist_len, &r->overflow[h], v);
}

/*
 * KPL_NT_WORK_HMM: mirror the reader's range as a device driver would
 * (lib/test_hmm.c): hmm_range_fault under mmap_read_lock with the sequence
 * read_begin returned. -EBUSY: the range changed meanwhile (a retry); other
 * errors are counted and the attempt goes on.
 */
static int kpl_nt_hmm(struct kpl_nt_reader *r, unsigned long seq)
{
#if IS_ENABLED(CONFIG_HMM_MIRROR)
	struct mmu_interval_notifier *mni = &r->sub->mni;
	struct hmm_range range = {
		.notifier = mni,
		.notifier_seq = seq,
		.start = mni->interval_tree.start,
		.end = mni->interval_tree.last + 1,
		.hmm_pfns = r->pfns,
		.default_flags = HMM_PFN_REQ_FAULT,
	};
	int ret;

	mmap_read_lock(r->nt->mm);
	ret = hmm_range_fault(&range);
	mmap_read_unlock(r->nt->mm);
	if (ret && ret != -EBUSY)
		r->work_errors++;
	return ret == -EBUSY ? -EBUSY : 0;
#else
	return 0;
#endif
}

/* One read until commit; false when told to stop before committing. */
static bool kpl_nt_read_once(struct kpl_nt_reader *r)
{
	struct kpl_nt *nt = r->nt;
	struct mmu_interval_notifier *mni = &r->sub->mni;
	u64 t0 = ktime_get_ns(), t1, retries = 0;
	unsigned long seq;

	for (;;) {
		t1 = ktime_get_ns();
		seq = mmu_interval_read_begin(mni);
		kpl_nt_rec(r, H_BEGIN, ktime_get_ns() - t1);
		r->st.attempts++;
		if (nt->req.work_kind != KPL_NT_WORK_HMM || kpl_nt_hmm(r, seq) != -EBUSY) {
			kpl_busy_ns(nt->req.work_ns);
			mutex_lock(&nt->lock);
			if (!mmu_interval_read_retry(mni, seq)) {
				/* commit: a driver would program its page table here */
				mutex_unlock(&nt->lock);
				break;
			}
			mutex_unlock(&nt->lock);
		}
		r->st.retries++;
		retries++;
		if (READ_ONCE(nt->stop))
			return false;
		cond_resched_tasks_rcu_qs();
	}
	r->st.successes++;
	kpl_nt_rec(r, H_RETRIES, retries);
	kpl_nt_rec(r, H_COMMIT, ktime_get_ns() - t0);
	return true;
}

static int kpl_nt_reader_fn(void *arg)
{
	struct kpl_nt_reader *r = arg;
	struct kpl_nt *nt = r->nt;

	while (!READ_ONCE(nt->stop)) {
		/* Bound to r->cpu: only CPU hotplug moves it; it stops reading
		 * then (counted), as the IPI probe's spinners do.
		 */
		if (!r->moved && raw_smp_processor_id() != r->cpu)
			r->moved = true;
		if (READ_ONCE(nt->running) && !r->moved)
			kpl_nt_read_once(r);
		else
			schedule_timeout_idle(1);
		cond_resched_tasks_rcu_qs();
	}
	atomic_inc(&nt->exited);
	/* The last reference may remove the notifiers and drop the mm: done in
	 * core kernel code after, our module reference goes last.
	 */
	kpl_nt_put(nt);
	module_put_and_kthread_exit(0);
}

/* Buffers and (not yet running) kthreads of every reader. */
int kpl_nt_make_readers(struct kpl_nt *nt)
{
	const s32 __user *ucpus = u64_to_user_ptr(nt->req.cpus);
	u32 i;
	int h;

	for (i = 0; i < nt->req.nr_readers; i++) {
		struct kpl_nt_reader *r = &nt->readers[i];

		if (get_user(r->cpu, ucpus + i))
			return -EFAULT;
		r->nt = nt;
		r->sub = &nt->subs[i % nt->nr_subs];
		for (h = 0; h < H_INVAL; h++) {
			r->hist[h] = kvcalloc(nt->req.hist_len, sizeof(u64), GFP_KERNEL_ACCOUNT);
			if (!r->hist[h])
				return -ENOMEM;
		}
		if (nt->req.work_kind == KPL_NT_WORK_HMM) {
			r->pfns = kvcalloc(nt->req.range_len >> PAGE_SHIFT, sizeof(*r->pfns),
					   GFP_KERNEL_ACCOUNT);
			if (!r->pfns)
				return -ENOMEM;
		}
		r->task = kthread_create(kpl_nt_reader_fn, r, "kpl_nt/%u", i);
		if (IS_ERR(r->task)) {
			int err = PTR_ERR(r->task);

			r->task = NULL;
			return err;
		}
		/* Each reader holds the run and the module until it ends. */
		refcount_inc(&nt->refs);
		__module_get(THIS_MODULE);	/* the open file holds one already */
		nt->nr_tasks++;
	}
	return 0;
}

/* Pins every reader to its CPU, checked online under the hotplug lock. */
int kpl_nt_start_readers(struct kpl_nt *nt)
{
	u32 i;
	int ret = 0;

	cpus_read_lock();
	for (i = 0; i < nt->req.nr_readers; i++) {
		s32 cpu = nt->readers[i].cpu;

		if (cpu < 0 || cpu >= nr_cpu_ids || !cpu_online(cpu)) {
			ret = -EINVAL;
			break;
		}
	}
	for (i = 0; !ret && i < nt->req.nr_readers; i++)
		kthread_bind(nt->readers[i].task, nt->readers[i].cpu);
	if (!ret) {
		nt->started = true;
		for (i = 0; i < nt->req.nr_readers; i++)
			wake_up_process(nt->readers[i].task);
	}
	cpus_read_unlock();
	return ret;
}

/*
 * Tells every reader to end and waits for them, killably and for at most
 * KPL_NT_GRACE_MS: 0 when all of them ended, else -ETIMEDOUT (-EINTR on a
 * fatal signal) and the run belongs to the readers still to end. Readers
 * never woken (the start failed) are woken unbound to end at once.
 */
int kpl_nt_stop_readers(struct kpl_nt *nt)
{
	u64 deadline = ktime_get_ns() + (u64)KPL_NT_GRACE_MS * NSEC_PER_MSEC;
	u32 i;

	WRITE_ONCE(nt->stop, 1);
	if (!nt->started) {
		for (i = 0; i < nt->nr_tasks; i++)
			wake_up_process(nt->readers[i].task);
		nt->started = true;
	}
	/* Waking each jiffy: off the hung-task detector's list. */
	while ((u32)atomic_read(&nt->exited) < nt->nr_tasks) {
		if (fatal_signal_pending(current))
			return -EINTR;
		if (ktime_get_ns() > deadline)
			return -ETIMEDOUT;
		schedule_timeout_killable(1);
	}
	return 0;
}
