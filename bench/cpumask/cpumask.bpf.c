// SPDX-License-Identifier: GPL-2.0-only
/*
 * ns per bpf_cpumask_* kfunc: one SYSCALL program per operation, run by
 * BPF_PROG_TEST_RUN (no `repeat` exists for program types that may call
 * these kfuncs). Each program builds its masks, reads bpf_ktime_get_ns,
 * runs the operation n times in an open-coded loop, reads the clock again,
 * and sinks the results into a global so nothing is optimized away. The
 * "baseline" program is the same loop without the kfunc: the baseline user
 * space subtracts. Kfuncs are __weak: a program whose kfunc the kernel
 * lacks is not loaded (user space checks BTF first).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#include "cpumask.h"
#include "cpumask_kfuncs.bpf.h"

char LICENSE[] SEC("license") = "GPL";

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

BENCH(baseline, acc += i)
BENCH(create_release, {
	struct bpf_cpumask *x = bpf_cpumask_create();

	if (x)
		bpf_cpumask_release(x);
	acc++;
})
BENCH(acquire_release, bpf_cpumask_release(bpf_cpumask_acquire(m)))
BENCH(first, acc += bpf_cpumask_first(M))
BENCH(first_zero, acc += bpf_cpumask_first_zero(M))
BENCH(first_and, acc += bpf_cpumask_first_and(M, M2))
BENCH(set_cpu, bpf_cpumask_set_cpu(cpu, m))
BENCH(clear_cpu, bpf_cpumask_clear_cpu(cpu, m))
BENCH(test_cpu, acc += bpf_cpumask_test_cpu(cpu, M))
BENCH(test_and_set_cpu, acc += bpf_cpumask_test_and_set_cpu(cpu, m))
BENCH(test_and_clear_cpu, acc += bpf_cpumask_test_and_clear_cpu(cpu, m))
BENCH(setall, bpf_cpumask_setall(m))
BENCH(clear, bpf_cpumask_clear(m))
BENCH(and, acc += bpf_cpumask_and(dst, M, M2))
BENCH(or, bpf_cpumask_or(dst, M, M2))
BENCH(xor, bpf_cpumask_xor(dst, M, M2))
BENCH(equal, acc += bpf_cpumask_equal(M, M2))
BENCH(intersects, acc += bpf_cpumask_intersects(M, M2))
BENCH(subset, acc += bpf_cpumask_subset(M, M2))
BENCH(empty, acc += bpf_cpumask_empty(M))
BENCH(full, acc += bpf_cpumask_full(M))
BENCH(copy, bpf_cpumask_copy(dst, M))
BENCH(any_distribute, acc += bpf_cpumask_any_distribute(M))
BENCH(any_and_distribute, acc += bpf_cpumask_any_and_distribute(M, M2))
BENCH(weight, acc += bpf_cpumask_weight(M))

/* Correctness probe: weight after setall must equal nr_cpu_ids. */
SEC("syscall")
int cm_check_setall_weight(struct kpl_cm_args *a)
{
	struct bpf_cpumask *m = bpf_cpumask_create();

	if (!m) {
		a->error = -12;
		return 0;
	}
	bpf_cpumask_setall(m);
	a->result = bpf_cpumask_weight(M);
	bpf_cpumask_release(m);
	a->error = 0;
	return 0;
}
