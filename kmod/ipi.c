// SPDX-License-Identifier: GPL-2.0-only
/*
 * Raw IPI latency: smp_call_function_single (one-way and round trip),
 * smp_call_function_many broadcast, and irq_work self-IPI latency.
 *
 * The sender is a kthread of ours bound to src_cpu (IRQ_WORK: dst_cpu), not
 * a shared kworker: a 10 s run must not stall that CPU's worker pool, and
 * the hotplug lock is held only while CPUs are validated and threads bound.
 * Each sample runs with preemption disabled and checks that the sender is
 * still on its CPU. Handlers write their own per-CPU slot (its own cache
 * line: no shared atomics in the measured path) with the sample's sequence
 * number, so a handler that did not run is seen, not timed. Timestamps are
 * ktime_get_mono_fast_ns; cross-CPU deltas outside [send, return] are
 * counted as clock disagreements, never recorded.
 *
 * With KPL_IPI_TARGET_BUSY a kthread of ours spins on every target
 * (preemptible, cond_resched), so each IPI interrupts a running CPU; with
 * TARGET_IDLE whatever the target does is measured (on x86 a polling-idle
 * CPU is woken without an interrupt).
 *
 * The caller never waits without bound for its kthreads: a CPU they are
 * bound to can be owned by an RT task (sched_rt_runtime_us = -1), where
 * they may not run for as long as it likes. The caller waits killably, for
 * the time cap plus KPL_IPI_GRACE_MS, then gives the job up (-ETIMEDOUT, or
 * -EINTR on a fatal signal): the kthreads hold references to the job and
 * to the module, and the last of them to run frees the job. Nothing stops
 * a kthread from outside (no kthread_stop, which waits uninterruptibly):
 * each ends on its own when j->stop is set.
 */
#include <linux/capability.h>
#include <linux/completion.h>
#include <linux/cpu.h>
#include <linux/cpumask.h>
#include <linux/irq_work.h>
#include <linux/kthread.h>
#include <linux/module.h>
#include <linux/percpu.h>
#include <linux/refcount.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/slab.h>
#include <linux/smp.h>
#include <linux/timekeeping.h>
#include <linux/uaccess.h>

#include "kperflab/hist.h"
#include "kperflab/uapi.h"
#include "kperflab.h"

/* Written only by the handler on its own CPU (per-CPU area). */
struct kpl_ipi_slot {
	u64 ts;
	u64 seq;
};

/* How long past the time cap the caller waits for its kthreads. */
#define KPL_IPI_GRACE_MS 2000

struct kpl_ipi_job {
	refcount_t refs;		/* the caller's and one per kthread */
	int stop;			/* every kthread of the job ends */
	atomic_t exited;		/* spinners that ended */
	struct kpl_ipi_req req;
	struct task_struct *caller;	/* referenced: a job given up outlives it */
	u64 *hist, *hist2;
	unsigned int delay_ns;
	u64 seq;			/* the sample in flight */
	struct kpl_ipi_slot __percpu *slots;
	int run_cpu;			/* the sender's CPU */
	int irq_done;
	struct irq_work work;
	cpumask_var_t targets;		/* SINGLE: dst; BROADCAST: the N targets */
	struct task_struct *sender;
	struct task_struct **spinners;	/* TARGET_BUSY: one per target */
	unsigned int nr_spinners;
	atomic_t spinning;		/* spinners that reached their CPU */
	struct completion done;
	int ret;
};

static void kpl_ipi_mark(struct kpl_ipi_job *j)
{
	struct kpl_ipi_slot *s = this_cpu_ptr(j->slots);

	s->ts = ktime_get_mono_fast_ns();
	WRITE_ONCE(s->seq, READ_ONCE(j->seq));
}

static void kpl_ipi_handler(void *info)
{
	struct kpl_ipi_job *j = info;

	kpl_ipi_mark(j);
	kpl_busy_ns(j->delay_ns);
}

static void kpl_irq_work_fn(struct irq_work *w)
{
	struct kpl_ipi_job *j = container_of(w, struct kpl_ipi_job, work);

	kpl_ipi_mark(j);
	kpl_busy_ns(j->delay_ns);
	/* pairs with the sender's smp_load_acquire: the slot is written */
	smp_store_release(&j->irq_done, 1);
}

static void kpl_ipi_free(struct kpl_ipi_job *j);

static void kpl_ipi_put(struct kpl_ipi_job *j)
{
	if (refcount_dec_and_test(&j->refs))
		kpl_ipi_free(j);
}

/* The end of each of our kthreads: drops its references to the job and to
 * the module, in core kernel code (no instruction of ours runs after).
 */
static void __noreturn kpl_ipi_kthread_exit(struct kpl_ipi_job *j)
{
	kpl_ipi_put(j);
	module_put_and_kthread_exit(0);
}

static int kpl_ipi_spin(void *arg)
{
	struct kpl_ipi_job *j = arg;
	int cpu = raw_smp_processor_id();

	atomic_inc(&j->spinning);
	/* Stops spinning if hotplug moved it off its target CPU. */
	while (!READ_ONCE(j->stop) && raw_smp_processor_id() == cpu) {
		cpu_relax();
		cond_resched_tasks_rcu_qs();
	}
	while (!READ_ONCE(j->stop))
		schedule_timeout_interruptible(1);
	atomic_inc(&j->exited);
	kpl_ipi_kthread_exit(j);
}

/* Records one delta of handler time th against [t0, t1]. */
static void kpl_ipi_record(struct kpl_ipi_job *j, u64 t0, u64 th, u64 t1)
{
	struct kpl_ipi_req *r = &j->req;

	if (th < t0)
		r->negative++;
	else if (t1 && th > t1)
		r->after_return++;
	else
		kpl_hist_record(j->hist, r->hist_len, &r->overflow, th - t0);
}

/* The handler's time on cpu for the current sample, or 0 if it did not run. */
static u64 kpl_ipi_slot_ts(struct kpl_ipi_job *j, int cpu)
{
	struct kpl_ipi_slot *s = per_cpu_ptr(j->slots, cpu);

	return READ_ONCE(s->seq) == j->seq ? s->ts : 0;
}

static int kpl_ipi_single(struct kpl_ipi_job *j)
{
	struct kpl_ipi_req *r = &j->req;
	u64 t0, t1, th;
	int err;

	t0 = ktime_get_mono_fast_ns();
	err = smp_call_function_single(r->dst_cpu, kpl_ipi_handler, j, 1);
	t1 = ktime_get_mono_fast_ns();
	preempt_enable();
	th = err ? 0 : kpl_ipi_slot_ts(j, r->dst_cpu);
	if (!th) {
		r->failed++;
		return cpu_online(r->dst_cpu) ? 0 : -ENXIO;
	}
	kpl_ipi_record(j, t0, th, t1);
	if (j->hist2)
		kpl_hist_record(j->hist2, r->hist_len, &r->overflow2, t1 - t0);
	return 0;
}

static int kpl_ipi_broadcast(struct kpl_ipi_job *j)
{
	struct kpl_ipi_req *r = &j->req;
	u64 t0, t1, th, last = 0;
	int cpu;

	t0 = ktime_get_mono_fast_ns();
	smp_call_function_many(j->targets, kpl_ipi_handler, j, 1);
	t1 = ktime_get_mono_fast_ns();
	preempt_enable();
	/* smp_call_function_many skips offline CPUs without a word. */
	for_each_cpu(cpu, j->targets) {
		th = kpl_ipi_slot_ts(j, cpu);
		if (!th) {
			r->failed++;
			return cpu_online(cpu) ? 0 : -ENXIO;
		}
		last = max(last, th);
	}
	kpl_ipi_record(j, t0, last, t1);
	if (j->hist2)
		kpl_hist_record(j->hist2, r->hist_len, &r->overflow2, t1 - t0);
	return 0;
}

static int kpl_ipi_irq_work(struct kpl_ipi_job *j)
{
	u64 t0, th, deadline;
	bool queued;

	WRITE_ONCE(j->irq_done, 0);
	t0 = ktime_get_mono_fast_ns();
	queued = irq_work_queue(&j->work);
	preempt_enable();
	if (!queued) {
		j->req.failed++;
		return 0;
	}
	deadline = t0 + 100 * NSEC_PER_MSEC;
	/* pairs with the handler's smp_store_release */
	while (!smp_load_acquire(&j->irq_done)) {
		if (ktime_get_mono_fast_ns() > deadline) {
			irq_work_sync(&j->work);
			j->req.failed++;
			return -ETIMEDOUT;
		}
		cpu_relax();
	}
	irq_work_sync(&j->work);
	th = kpl_ipi_slot_ts(j, j->run_cpu);
	if (!th)
		j->req.failed++;
	else
		kpl_ipi_record(j, t0, th, 0);
	return 0;
}

/* One sample; a non-zero return ends the run. */
static int kpl_ipi_one(struct kpl_ipi_job *j)
{
	WRITE_ONCE(j->seq, j->seq + 1);
	preempt_disable();
	if (smp_processor_id() != j->run_cpu) {
		/* our CPU went offline and the scheduler moved us */
		preempt_enable();
		j->req.migrated++;
		return -ENXIO;
	}
	switch (j->req.pattern) {
	case KPL_IPI_SINGLE:
		return kpl_ipi_single(j);
	case KPL_IPI_BROADCAST:
		return kpl_ipi_broadcast(j);
	default:
		return kpl_ipi_irq_work(j);
	}
}

/* Waits (bounded) until every spinner runs on its target. */
static int kpl_ipi_wait_spinners(struct kpl_ipi_job *j)
{
	u64 deadline = ktime_get_mono_fast_ns() + NSEC_PER_SEC;

	while (atomic_read(&j->spinning) < j->nr_spinners) {
		if (READ_ONCE(j->stop))
			return -ECANCELED;
		if (signal_pending(j->caller))
			return -EINTR;
		if (ktime_get_mono_fast_ns() > deadline)
			return -ETIMEDOUT;
		schedule_timeout_interruptible(1);
	}
	return 0;
}

static int kpl_ipi_run(struct kpl_ipi_job *j)
{
	struct kpl_ipi_req *r = &j->req;
	u64 deadline = ktime_get_mono_fast_ns() + (u64)r->max_ms * NSEC_PER_MSEC;
	int ret = kpl_ipi_wait_spinners(j);

	if (ret)
		return ret;
	while (r->done < r->samples) {
		if (READ_ONCE(j->stop))
			return -ECANCELED;	/* the caller gave the job up */
		if (signal_pending(j->caller))
			return -EINTR;
		if (ktime_get_mono_fast_ns() > deadline)
			break;	/* the time cap ends a run early: done says how far */
		ret = kpl_ipi_one(j);
		r->done++;
		if (ret)
			return ret;
		if (!(r->done & 63))
			cond_resched_tasks_rcu_qs();
	}
	return 0;
}

static int kpl_ipi_sender(void *arg)
{
	struct kpl_ipi_job *j = arg;

	j->ret = READ_ONCE(j->stop) ? -ECANCELED : kpl_ipi_run(j);
	complete(&j->done);
	kpl_ipi_kthread_exit(j);
}

/* Creates one of the job's kthreads, bound to cpu and woken, holding a
 * reference to the job and to the module.
 */
static struct task_struct *kpl_ipi_kthread(struct kpl_ipi_job *j, int (*fn)(void *),
					   const char *name, int cpu)
{
	struct task_struct *t = kthread_create(fn, j, "%s/%d", name, cpu);

	if (IS_ERR(t))
		return t;
	kthread_bind(t, cpu);
	refcount_inc(&j->refs);
	__module_get(THIS_MODULE);	/* the open file holds one already */
	wake_up_process(t);
	return t;
}

static int kpl_ipi_check(const struct kpl_ipi_req *r)
{
	if (!kpl_reserved_zero(r->reserved, ARRAY_SIZE(r->reserved)) || r->reserved0)
		return -EINVAL;
	if (r->pattern >= KPL_IPI_PATTERNS || !r->samples || r->samples > KPL_MAX_SAMPLES ||
	    !r->max_ms || r->max_ms > KPL_MAX_MS ||
	    r->handler_delay_ns > KPL_MAX_HANDLER_DELAY_NS ||
	    !r->hist_len || r->hist_len > KPL_MAX_HIST_LEN || !r->hist ||
	    r->target >= KPL_IPI_TARGETS)
		return -EINVAL;
	if (r->pattern == KPL_IPI_IRQ_WORK && r->target == KPL_IPI_TARGET_BUSY)
		return -EINVAL;	/* the self-IPI's target is the sender */
	/* Perturbing other work: a busy wait in hard IRQ, spinning kthreads. */
	if ((r->handler_delay_ns || r->target == KPL_IPI_TARGET_BUSY) &&
	    !capable(CAP_SYS_ADMIN))
		return -EPERM;
	return 0;
}

static bool kpl_ipi_cpu_ok(s32 cpu)
{
	return cpu >= 0 && cpu < nr_cpu_ids && cpu_online(cpu);
}

/* Under cpus_read_lock: the CPUs exist and are online, the targets set. */
static int kpl_ipi_validate_cpus(struct kpl_ipi_job *j)
{
	struct kpl_ipi_req *r = &j->req;
	unsigned int cpu, n = 0;

	if (!kpl_ipi_cpu_ok(r->src_cpu))
		return -EINVAL;
	if (r->pattern != KPL_IPI_BROADCAST) {
		if (!kpl_ipi_cpu_ok(r->dst_cpu) || r->dst_cpu == r->src_cpu)
			return -EINVAL;
		cpumask_set_cpu(r->dst_cpu, j->targets);
		return 0;
	}
	if (!r->nr_targets || r->nr_targets >= nr_cpu_ids)
		return -EINVAL;
	for_each_online_cpu(cpu) {
		if (cpu == r->src_cpu || n == r->nr_targets)
			continue;
		cpumask_set_cpu(cpu, j->targets);
		n++;
	}
	return n == r->nr_targets ? 0 : -EINVAL;
}

/* Under cpus_read_lock: sender and spinners created, bound and woken. */
static int kpl_ipi_start(struct kpl_ipi_job *j)
{
	int cpu;

	j->run_cpu = j->req.pattern == KPL_IPI_IRQ_WORK ? j->req.dst_cpu : j->req.src_cpu;
	if (j->req.target == KPL_IPI_TARGET_BUSY) {
		j->spinners = kcalloc(cpumask_weight(j->targets), sizeof(*j->spinners),
				      GFP_KERNEL_ACCOUNT);
		if (!j->spinners)
			return -ENOMEM;
		for_each_cpu(cpu, j->targets) {
			struct task_struct *t = kpl_ipi_kthread(j, kpl_ipi_spin, "kpl_spin", cpu);

			if (IS_ERR(t))
				return PTR_ERR(t);
			j->spinners[j->nr_spinners++] = t;
		}
	}
	j->sender = kpl_ipi_kthread(j, kpl_ipi_sender, "kpl_ipi", j->run_cpu);
	if (IS_ERR(j->sender)) {
		int err = PTR_ERR(j->sender);

		j->sender = NULL;
		return err;
	}
	return 0;
}

/*
 * Waits, killably and for at most `ms`, for the sender's completion (when
 * done) or for every spinner to end; false when the wait ran out or a fatal
 * signal came. Wakes every second: off the hung-task detector's list.
 */
static bool kpl_ipi_wait(struct kpl_ipi_job *j, struct completion *done, unsigned int ms)
{
	u64 deadline = ktime_get_mono_fast_ns() + (u64)ms * NSEC_PER_MSEC;

	for (;;) {
		/* completion_done() does not consume it: a later wait still sees it */
		if (done ? completion_done(done) : atomic_read(&j->exited) == j->nr_spinners)
			return true;
		if (fatal_signal_pending(current) || ktime_get_mono_fast_ns() > deadline)
			return false;
		if (!done)
			schedule_timeout_killable(1);
		else if (wait_for_completion_killable_timeout(done, HZ) > 0)
			return true;	/* consumed: completion_done() would say no now */
	}
}

/*
 * Ends the job's kthreads: 0 when all of them ended, else the job is given
 * up (-ETIMEDOUT, or -EINTR on a fatal signal) and the kthreads that have
 * not run yet free it when they do.
 */
static int kpl_ipi_stop(struct kpl_ipi_job *j)
{
	/* The sender ends on its own within the time cap once it runs. */
	bool sent = !j->sender || kpl_ipi_wait(j, &j->done, j->req.max_ms + KPL_IPI_GRACE_MS);

	WRITE_ONCE(j->stop, 1);
	/* Spinners late to end (their CPU taken) keep the job until they do;
	 * the sender's results are complete without them.
	 */
	if (j->nr_spinners && !kpl_ipi_wait(j, NULL, KPL_IPI_GRACE_MS))
		pr_warn_ratelimited("kperflab: ipi: %u of %u spinning kthreads did not end within %u ms; they end when their CPU runs them\n",
				    j->nr_spinners - atomic_read(&j->exited), j->nr_spinners,
				    KPL_IPI_GRACE_MS);
	if (sent)
		return 0;
	return fatal_signal_pending(current) ? -EINTR : -ETIMEDOUT;
}

static int kpl_ipi_alloc(struct kpl_ipi_job *j)
{
	size_t bytes = (size_t)j->req.hist_len * sizeof(u64);

	if (!zalloc_cpumask_var(&j->targets, GFP_KERNEL_ACCOUNT))
		return -ENOMEM;
	j->slots = alloc_percpu_gfp(struct kpl_ipi_slot, GFP_KERNEL_ACCOUNT);
	j->hist = kvzalloc(bytes, GFP_KERNEL_ACCOUNT);
	if (j->req.hist2)
		j->hist2 = kvzalloc(bytes, GFP_KERNEL_ACCOUNT);
	if (!j->slots || !j->hist || (j->req.hist2 && !j->hist2))
		return -ENOMEM;
	return 0;
}

static void kpl_ipi_free(struct kpl_ipi_job *j)
{
	kfree(j->spinners);
	kvfree(j->hist2);
	kvfree(j->hist);
	free_percpu(j->slots);
	free_cpumask_var(j->targets);
	if (j->caller)
		put_task_struct(j->caller);
	kfree(j);
}

static int kpl_ipi_copy_out(struct kpl_ipi_job *j, void __user *u, u32 usize)
{
	size_t bytes = (size_t)j->req.hist_len * sizeof(u64);

	if (copy_to_user(u64_to_user_ptr(j->req.hist), j->hist, bytes) ||
	    (j->hist2 && copy_to_user(u64_to_user_ptr(j->req.hist2), j->hist2, bytes)))
		return -EFAULT;
	return kpl_copy_resp(u, &j->req, sizeof(j->req), usize);
}

long kpl_ipi_ioctl(void __user *u)
{
	struct kpl_ipi_job *j;
	struct kpl_ipi_req *r;
	u32 usize;
	long ret, out;

	j = kzalloc(sizeof(*j), GFP_KERNEL_ACCOUNT);
	if (!j)
		return -ENOMEM;
	refcount_set(&j->refs, 1);
	r = &j->req;
	ret = kpl_copy_req(r, sizeof(*r), u, &usize);
	if (!ret)
		ret = kpl_ipi_check(r);
	if (ret)
		goto out;
	/*
	 * (out) fields start from zero whatever the caller left there: one
	 * by one (a memset across fields is a FORTIFY_SOURCE write past the
	 * first field on 6.1).
	 */
	r->overflow = 0;
	r->overflow2 = 0;
	r->done = 0;
	r->failed = 0;
	r->negative = 0;
	r->after_return = 0;
	r->migrated = 0;
	ret = kpl_ipi_alloc(j);
	if (ret)
		goto out;
	j->caller = get_task_struct(current);
	j->delay_ns = min_t(unsigned int, r->handler_delay_ns + kpl_handler_delay_ns(),
			    KPL_MAX_HANDLER_DELAY_NS);
	/* HARD: the handler runs in hard IRQ context on PREEMPT_RT too. */
	j->work = IRQ_WORK_INIT_HARD(kpl_irq_work_fn);
	init_completion(&j->done);
	cpus_read_lock();
	ret = kpl_ipi_validate_cpus(j);
	if (!ret)
		ret = kpl_ipi_start(j);
	cpus_read_unlock();
	out = kpl_ipi_stop(j);
	if (out) {
		/* Given up: a kthread may still write the job; nothing of it is
		 * read here.
		 */
		if (out == -ETIMEDOUT)
			pr_warn_ratelimited("kperflab: ipi: the sender kthread on CPU %d did not end within %u ms (an RT task owns the CPU?): the request is given up to it\n",
					    j->run_cpu, j->req.max_ms + KPL_IPI_GRACE_MS);
		ret = out;
		goto out;
	}
	if (ret)
		goto out;
	ret = j->ret;
	/* Counts gathered before a signal or an error are still returned. */
	out = kpl_ipi_copy_out(j, u, usize);
	if (out)
		ret = out;
out:
	kpl_ipi_put(j);
	return ret;
}
