// SPDX-License-Identifier: GPL-2.0-only
/*
 * Raw IPI latency: smp_call_function_single (one-way and round trip),
 * smp_call_function_many broadcast, and irq_work self-IPI latency. The
 * sender runs in a kworker bound to src_cpu (work_on_cpu); irq_work runs on
 * dst_cpu itself, because irq_work_queue_on is not exported to modules, so
 * irq_work_queue (self-IPI on the local CPU) is what a module can time.
 * Every timestamp is
 * ktime_get_mono_fast_ns, one clock on every CPU. Bounded by samples and
 * max_ms, interrupted by a signal to the calling task.
 */
#include <linux/atomic.h>
#include <linux/cpu.h>
#include <linux/cpumask.h>
#include <linux/delay.h>
#include <linux/irq_work.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/smp.h>
#include <linux/timekeeping.h>
#include <linux/uaccess.h>
#include <linux/workqueue.h>

#include "kperflab/hist.h"
#include "kperflab/uapi.h"
#include "kperflab.h"

struct kpl_ipi_job {
	struct kpl_ipi_req req;
	struct task_struct *caller;
	u64 *hist, *hist2;
	unsigned int delay_ns;
	u64 t_handler;		/* SINGLE, IRQ_WORK: handler entry */
	atomic64_t t_last;	/* BROADCAST: last handler entry */
	int irq_done;
	struct irq_work work;
	cpumask_var_t targets;
};

static void kpl_ipi_handler(void *info)
{
	struct kpl_ipi_job *j = info;
	u64 now = ktime_get_mono_fast_ns();
	s64 old = atomic64_read(&j->t_last);

	WRITE_ONCE(j->t_handler, now);
	/* Bounded: each failed exchange means another CPU stored a later time. */
	while ((s64)now > old && !atomic64_try_cmpxchg(&j->t_last, &old, now))
		;
	if (j->delay_ns)
		ndelay(j->delay_ns);
}

static void kpl_irq_work_fn(struct irq_work *w)
{
	struct kpl_ipi_job *j = container_of(w, struct kpl_ipi_job, work);

	WRITE_ONCE(j->t_handler, ktime_get_mono_fast_ns());
	if (j->delay_ns)
		ndelay(j->delay_ns);
	smp_store_release(&j->irq_done, 1);
}

static void kpl_record(struct kpl_ipi_job *j, u64 *hist, __u64 *overflow, u64 t0, u64 t)
{
	if (hist)
		kpl_hist_record(hist, j->req.hist_len, overflow, t > t0 ? t - t0 : 0);
}

static int kpl_ipi_one(struct kpl_ipi_job *j)
{
	struct kpl_ipi_req *r = &j->req;
	u64 t0, t1, deadline;

	WRITE_ONCE(j->t_handler, 0);
	atomic64_set(&j->t_last, 0);
	switch (r->pattern) {
	case KPL_IPI_SINGLE:
		t0 = ktime_get_mono_fast_ns();
		smp_call_function_single(r->dst_cpu, kpl_ipi_handler, j, 1);
		t1 = ktime_get_mono_fast_ns();
		kpl_record(j, j->hist, &r->overflow, t0, READ_ONCE(j->t_handler));
		kpl_record(j, j->hist2, &r->overflow2, t0, t1);
		return 0;
	case KPL_IPI_BROADCAST:
		preempt_disable();
		t0 = ktime_get_mono_fast_ns();
		smp_call_function_many(j->targets, kpl_ipi_handler, j, 1);
		t1 = ktime_get_mono_fast_ns();
		preempt_enable();
		kpl_record(j, j->hist, &r->overflow, t0, atomic64_read(&j->t_last));
		kpl_record(j, j->hist2, &r->overflow2, t0, t1);
		return 0;
	case KPL_IPI_IRQ_WORK:
		WRITE_ONCE(j->irq_done, 0);
		t0 = ktime_get_mono_fast_ns();
		if (!irq_work_queue(&j->work))
			return -EBUSY;
		deadline = t0 + 100 * NSEC_PER_MSEC;
		while (!smp_load_acquire(&j->irq_done)) {
			if (ktime_get_mono_fast_ns() > deadline) {
				irq_work_sync(&j->work);
				return -ETIMEDOUT;
			}
			cpu_relax();
		}
		irq_work_sync(&j->work);
		kpl_record(j, j->hist, &r->overflow, t0, READ_ONCE(j->t_handler));
		return 0;
	}
	return -EINVAL;
}

/* Runs on src_cpu (work_on_cpu). */
static long kpl_ipi_run(void *arg)
{
	struct kpl_ipi_job *j = arg;
	u64 deadline = ktime_get_mono_fast_ns() + (u64)j->req.max_ms * NSEC_PER_MSEC;
	int ret = 0;

	for (j->req.done = 0; j->req.done < j->req.samples; j->req.done++) {
		if (signal_pending(j->caller))
			return -EINTR;
		if (ktime_get_mono_fast_ns() > deadline)
			break;	/* the time cap ends a run early: done says how far */
		ret = kpl_ipi_one(j);
		if (ret)
			return ret;
		if (!(j->req.done & 63))
			cond_resched();
	}
	return 0;
}

static int kpl_ipi_validate(struct kpl_ipi_job *j)
{
	struct kpl_ipi_req *r = &j->req;
	unsigned int cpu, n = 0;

	if (!kpl_reserved_zero(r->reserved, ARRAY_SIZE(r->reserved)) || r->overflow ||
	    r->overflow2 || r->done)
		return -EINVAL;
	if (r->pattern >= KPL_IPI_PATTERNS || !r->samples || r->samples > KPL_MAX_SAMPLES ||
	    !r->max_ms || r->max_ms > KPL_MAX_MS ||
	    r->handler_delay_ns > KPL_MAX_HANDLER_DELAY_NS ||
	    !r->hist_len || r->hist_len > KPL_MAX_HIST_LEN || !r->hist)
		return -EINVAL;
	if (r->src_cpu < 0 || r->src_cpu >= nr_cpu_ids || !cpu_online(r->src_cpu))
		return -EINVAL;
	if (r->pattern == KPL_IPI_BROADCAST) {
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
	if (r->dst_cpu < 0 || r->dst_cpu >= nr_cpu_ids || !cpu_online(r->dst_cpu) ||
	    r->dst_cpu == r->src_cpu)
		return -EINVAL;
	return 0;
}

long kpl_ipi_ioctl(void __user *u)
{
	struct kpl_ipi_job *j;
	size_t bytes;
	long ret;
	int cpu;

	j = kzalloc(sizeof(*j), GFP_KERNEL);
	if (!j)
		return -ENOMEM;
	ret = kpl_copy_req(&j->req, sizeof(j->req), u);
	if (ret)
		goto out_job;
	ret = -ENOMEM;
	if (!zalloc_cpumask_var(&j->targets, GFP_KERNEL))
		goto out_job;
	ret = kpl_ipi_validate(j);
	if (ret)
		goto out_mask;
	ret = -ENOMEM;
	bytes = (size_t)j->req.hist_len * sizeof(u64);
	j->hist = kvzalloc(bytes, GFP_KERNEL);
	if (!j->hist)
		goto out_mask;
	if (j->req.hist2) {
		j->hist2 = kvzalloc(bytes, GFP_KERNEL);
		if (!j->hist2)
			goto out_hist;
	}
	j->caller = current;
	j->delay_ns = min_t(unsigned int, j->req.handler_delay_ns + kpl_handler_delay_ns(),
			    KPL_MAX_HANDLER_DELAY_NS);
	/* HARD: the handler runs in hard IRQ context on PREEMPT_RT too. */
	j->work = IRQ_WORK_INIT_HARD(kpl_irq_work_fn);
	cpus_read_lock();
	cpu = j->req.pattern == KPL_IPI_IRQ_WORK ? j->req.dst_cpu : j->req.src_cpu;
	ret = cpu_online(cpu) ? work_on_cpu(cpu, kpl_ipi_run, j) : -EINVAL;
	cpus_read_unlock();
	/* Counts gathered before a signal or an error are still returned. */
	if (copy_to_user(u64_to_user_ptr(j->req.hist), j->hist, bytes) ||
	    (j->hist2 && copy_to_user(u64_to_user_ptr(j->req.hist2), j->hist2, bytes)) ||
	    copy_to_user(u, &j->req, sizeof(j->req)))
		ret = -EFAULT;
	kvfree(j->hist2);
out_hist:
	kvfree(j->hist);
out_mask:
	free_cpumask_var(j->targets);
out_job:
	kfree(j);
	return ret;
}
