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
 */
#include <linux/capability.h>
#include <linux/completion.h>
#include <linux/cpu.h>
#include <linux/cpumask.h>
#include <linux/irq_work.h>
#include <linux/kthread.h>
#include <linux/percpu.h>
#include <linux/sched/signal.h>
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

struct kpl_ipi_job {
	struct kpl_ipi_req req;
	struct task_struct *caller;
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

/* A kthread that is done waits here until kthread_stop(). */
static void kpl_ipi_wait_stop(void)
{
	for (;;) {
		set_current_state(TASK_INTERRUPTIBLE);
		if (kthread_should_stop())
			break;
		schedule();
	}
	__set_current_state(TASK_RUNNING);
}

static int kpl_ipi_spin(void *arg)
{
	struct kpl_ipi_job *j = arg;
	int cpu = raw_smp_processor_id();

	atomic_inc(&j->spinning);
	/* Stops spinning if hotplug moved it off its target CPU. */
	while (!kthread_should_stop() && raw_smp_processor_id() == cpu) {
		cpu_relax();
		cond_resched_tasks_rcu_qs();
	}
	kpl_ipi_wait_stop();
	return 0;
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

	j->ret = kpl_ipi_run(j);
	complete(&j->done);
	kpl_ipi_wait_stop();
	return 0;
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
			struct task_struct *t = kthread_create(kpl_ipi_spin, j, "kpl_spin/%d", cpu);

			if (IS_ERR(t))
				return PTR_ERR(t);
			kthread_bind(t, cpu);
			j->spinners[j->nr_spinners++] = t;
			wake_up_process(t);
		}
	}
	j->sender = kthread_create(kpl_ipi_sender, j, "kpl_ipi/%d", j->run_cpu);
	if (IS_ERR(j->sender)) {
		int err = PTR_ERR(j->sender);

		j->sender = NULL;
		return err;
	}
	kthread_bind(j->sender, j->run_cpu);
	wake_up_process(j->sender);
	return 0;
}

static void kpl_ipi_stop(struct kpl_ipi_job *j)
{
	unsigned int i;

	if (j->sender) {
		/*
		 * Bounded: the sender checks the caller's signals and the time
		 * cap every sample; waking each second keeps this task off the
		 * hung-task detector's list.
		 */
		while (!wait_for_completion_timeout(&j->done, HZ))
			;
		kthread_stop(j->sender);
	}
	for (i = 0; i < j->nr_spinners; i++)
		kthread_stop(j->spinners[i]);
	kfree(j->spinners);
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
	kvfree(j->hist2);
	kvfree(j->hist);
	free_percpu(j->slots);
	free_cpumask_var(j->targets);
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
	j->caller = current;
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
	kpl_ipi_stop(j);
	if (ret)
		goto out;
	ret = j->ret;
	/* Counts gathered before a signal or an error are still returned. */
	out = kpl_ipi_copy_out(j, u, usize);
	if (out)
		ret = out;
out:
	kpl_ipi_free(j);
	return ret;
}
