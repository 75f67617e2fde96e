// SPDX-License-Identifier: GPL-2.0-only
/*
 * Native cpumask baseline for the BPF cpumask kfunc probe: n operations in
 * a loop, the clock read outside it, the results summed into a sink. The
 * same masks as bench/cpumask (density: empty, every other CPU, all; the
 * second operand is the complement for "every other"). Every 4096
 * iterations the loop checks the time cap and pending signals (either ends
 * a batch early) and offers to reschedule: a batch can be 10 s long and
 * must not hold its CPU on a kernel without preemption.
 */
#include <linux/cpumask.h>
#include <linux/gfp.h>
#include <linux/sched/signal.h>
#include <linux/timekeeping.h>
#include <linux/uaccess.h>

#include "kperflab/uapi.h"
#include "kperflab.h"

struct kpl_cm {
	cpumask_var_t a, b, d;
	unsigned int cpu;
	u64 n, done, acc;
	u64 deadline;
};

/* Inlined so the loop body under test is not a call away from its check. */
static __always_inline bool kpl_cm_stop(struct kpl_cm *c, u64 i)
{
	if (likely(i & 4095))
		return false;
	cond_resched_tasks_rcu_qs();
	return ktime_get_ns() > c->deadline || signal_pending(current);
}

#define KPL_CM_LOOP(stmt)                                                  \
	do {                                                               \
		for (i = 0; i < c->n; i++) {                               \
			stmt;                                              \
			if (kpl_cm_stop(c, i)) {                           \
				i++;	/* op i already ran */             \
				break;                                     \
			}                                                  \
		}                                                          \
		c->done = i;                                               \
	} while (0)

static __always_inline int kpl_cm_alloc_free(void)
{
	cpumask_var_t x;

	if (!alloc_cpumask_var(&x, GFP_KERNEL))
		return 0;
	free_cpumask_var(x);
	return 1;
}

static int kpl_cm_loop(struct kpl_cm *c, unsigned int op)
{
	u64 i;

	switch (op) {
	case KPL_CMOP_BASELINE:
		KPL_CM_LOOP(c->acc += i);
		break;
	case KPL_CMOP_ALLOC_FREE:
		KPL_CM_LOOP(c->acc += kpl_cm_alloc_free());
		break;
	case KPL_CMOP_FIRST:
		KPL_CM_LOOP(c->acc += cpumask_first(c->a));
		break;
	case KPL_CMOP_FIRST_ZERO:
		KPL_CM_LOOP(c->acc += cpumask_first_zero(c->a));
		break;
	case KPL_CMOP_FIRST_AND:
		KPL_CM_LOOP(c->acc += cpumask_first_and(c->a, c->b));
		break;
	case KPL_CMOP_SET_CPU:
		KPL_CM_LOOP(cpumask_set_cpu(c->cpu, c->a));
		break;
	case KPL_CMOP_CLEAR_CPU:
		KPL_CM_LOOP(cpumask_clear_cpu(c->cpu, c->a));
		break;
	case KPL_CMOP_TEST_CPU:
		KPL_CM_LOOP(c->acc += cpumask_test_cpu(c->cpu, c->a));
		break;
	case KPL_CMOP_TEST_AND_SET_CPU:
		KPL_CM_LOOP(c->acc += cpumask_test_and_set_cpu(c->cpu, c->a));
		break;
	case KPL_CMOP_TEST_AND_CLEAR_CPU:
		KPL_CM_LOOP(c->acc += cpumask_test_and_clear_cpu(c->cpu, c->a));
		break;
	case KPL_CMOP_SETALL:
		KPL_CM_LOOP(cpumask_setall(c->a));
		break;
	case KPL_CMOP_CLEAR:
		KPL_CM_LOOP(cpumask_clear(c->a));
		break;
	case KPL_CMOP_AND:
		KPL_CM_LOOP(c->acc += cpumask_and(c->d, c->a, c->b));
		break;
	case KPL_CMOP_OR:
		KPL_CM_LOOP(cpumask_or(c->d, c->a, c->b));
		break;
	case KPL_CMOP_XOR:
		KPL_CM_LOOP(cpumask_xor(c->d, c->a, c->b));
		break;
	case KPL_CMOP_EQUAL:
		KPL_CM_LOOP(c->acc += cpumask_equal(c->a, c->b));
		break;
	case KPL_CMOP_INTERSECTS:
		KPL_CM_LOOP(c->acc += cpumask_intersects(c->a, c->b));
		break;
	case KPL_CMOP_SUBSET:
		KPL_CM_LOOP(c->acc += cpumask_subset(c->a, c->b));
		break;
	case KPL_CMOP_EMPTY:
		KPL_CM_LOOP(c->acc += cpumask_empty(c->a));
		break;
	case KPL_CMOP_FULL:
		KPL_CM_LOOP(c->acc += cpumask_full(c->a));
		break;
	case KPL_CMOP_COPY:
		KPL_CM_LOOP(cpumask_copy(c->d, c->a));
		break;
	case KPL_CMOP_ANY_DISTRIBUTE:
		KPL_CM_LOOP(c->acc += cpumask_any_distribute(c->a));
		break;
	case KPL_CMOP_ANY_AND_DISTRIBUTE:
		KPL_CM_LOOP(c->acc += cpumask_any_and_distribute(c->a, c->b));
		break;
	case KPL_CMOP_WEIGHT:
		KPL_CM_LOOP(c->acc += cpumask_weight(c->a));
		break;
	default:
		return -EINVAL;
	}
	return 0;
}

static void kpl_cm_fill(struct kpl_cm *c, unsigned int density)
{
	unsigned int cpu;

	for (cpu = 0; cpu < nr_cpu_ids; cpu++) {
		if (density == 2 || (density == 1 && !(cpu & 1)))
			cpumask_set_cpu(cpu, c->a);
		if (density == 2 || (density == 1 && (cpu & 1)))
			cpumask_set_cpu(cpu, c->b);
	}
}

long kpl_cpumask_ioctl(void __user *u)
{
	struct kpl_cpumask_req r;
	struct kpl_cm c = {};
	u64 t0, t1;
	u32 usize;
	long ret = kpl_copy_req(&r, sizeof(r), u, &usize);

	if (ret)
		return ret;
	if (r.reserved0 || !kpl_reserved_zero(r.reserved, ARRAY_SIZE(r.reserved)) ||
	    r.op >= KPL_CMOP_OPS || r.cpu >= nr_cpu_ids || r.density > 2 || !r.n ||
	    r.n > KPL_MAX_ITERATIONS)
		return -EINVAL;
	/* without OFFSTACK alloc_cpumask_var() allocates nothing: not a cost */
	if (r.op == KPL_CMOP_ALLOC_FREE && !IS_ENABLED(CONFIG_CPUMASK_OFFSTACK))
		return -EOPNOTSUPP;
	r.elapsed_ns = 0;
	r.result = 0;
	ret = -ENOMEM;
	if (!zalloc_cpumask_var(&c.a, GFP_KERNEL_ACCOUNT))
		return ret;
	if (!zalloc_cpumask_var(&c.b, GFP_KERNEL_ACCOUNT))
		goto out_a;
	if (!zalloc_cpumask_var(&c.d, GFP_KERNEL_ACCOUNT))
		goto out_b;
	kpl_cm_fill(&c, r.density);
	c.cpu = r.cpu;
	c.n = r.n;
	c.deadline = ktime_get_ns() + (u64)KPL_MAX_MS * NSEC_PER_MSEC;
	t0 = ktime_get_ns();
	ret = kpl_cm_loop(&c, r.op);
	t1 = ktime_get_ns();
	if (!ret && c.done < c.n)
		ret = signal_pending(current) ? -EINTR : -ETIMEDOUT;
	r.elapsed_ns = t1 - t0;
	r.result = c.acc;
	r.n = c.done;
	if (kpl_copy_resp(u, &r, sizeof(r), usize))
		ret = -EFAULT;
	free_cpumask_var(c.d);
out_b:
	free_cpumask_var(c.b);
out_a:
	free_cpumask_var(c.a);
	return ret;
}
