/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The timed-batch skeleton shared by the cpumask BPF objects: mask setup,
 * the open-coded loop between two bpf_ktime_get_ns reads, the sink.
 */
#ifndef KPERFLAB_CPUMASK_BENCH_BPF_H
#define KPERFLAB_CPUMASK_BENCH_BPF_H

#include "cpumask.h"
#include "cpumask_kfuncs.bpf.h"

__u64 sink;

#define M ((const struct cpumask *)m)
#define M2 ((const struct cpumask *)m2)

static __always_inline void fill(struct bpf_cpumask *mask, __u32 density, __u32 nr_cpus)
{
	int c;

	if (density == KPL_CM_EMPTY)
		return;
	bpf_for(c, 0, nr_cpus) {
		if (density == KPL_CM_FULL || (c & 1) == 0)
			bpf_cpumask_set_cpu(c, mask);
	}
}

/* The second operand: the complement of the first for HALF (so and, or,
 * xor, intersects do real work), the same pattern otherwise. */
static __always_inline void fill_second(struct bpf_cpumask *m2, struct bpf_cpumask *m,
					__u32 density, __u32 nr_cpus)
{
	if (density != KPL_CM_HALF) {
		fill(m2, density, nr_cpus);
		return;
	}
	fill(m2, KPL_CM_FULL, nr_cpus);
	bpf_cpumask_xor(m2, M2, M);
}

/*
 * BENCH(name, stmt): stmt runs n times with m, m2 (filled per density; m2
 * is the complement pattern for HALF so and/or/xor do real work) and dst
 * in scope; it adds its result to acc.
 */
#define BENCH(name, stmt)                                                      \
SEC("syscall")                                                                 \
int cm_##name(struct kpl_cm_args *a)                                           \
{                                                                              \
	struct bpf_cpumask *m, *m2, *dst;                                      \
	__u64 t0, t1, acc = 0;                                                 \
	__u32 cpu __attribute__((unused)) = a->cpu;                            \
	int i;                                                                 \
                                                                               \
	m = bpf_cpumask_create();                                              \
	if (!m)                                                                \
		goto nomem;                                                    \
	m2 = bpf_cpumask_create();                                             \
	if (!m2) {                                                             \
		bpf_cpumask_release(m);                                        \
		goto nomem;                                                    \
	}                                                                      \
	dst = bpf_cpumask_create();                                            \
	if (!dst) {                                                            \
		bpf_cpumask_release(m2);                                       \
		bpf_cpumask_release(m);                                        \
		goto nomem;                                                    \
	}                                                                      \
	fill(m, a->density, a->nr_cpus);                                       \
	fill_second(m2, m, a->density, a->nr_cpus);                            \
	t0 = bpf_ktime_get_ns();                                               \
	bpf_for(i, 0, a->n) {                                                  \
		stmt;                                                          \
	}                                                                      \
	t1 = bpf_ktime_get_ns();                                               \
	a->elapsed_ns = t1 - t0;                                               \
	a->result = acc;                                                       \
	sink += acc;                                                           \
	bpf_cpumask_release(dst);                                              \
	bpf_cpumask_release(m2);                                               \
	bpf_cpumask_release(m);                                                \
	a->error = 0;                                                          \
	return 0;                                                              \
nomem:                                                                         \
	a->error = -12;                                                        \
	return 0;                                                              \
}

#endif
