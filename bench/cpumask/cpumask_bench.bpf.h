/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The timed-batch skeleton shared by the cpumask BPF objects: mask setup,
 * the nested open-coded loops between two bpf_ktime_get_ns reads, the sink
 * and the count of iterations run.
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
 * How a program gets its struct kpl_cm_args *a:
 * - SYSCALL (6.10+): the test-run context.
 * - TRACING (KPL_CM_TRACING; kfuncs are allowed there from 6.3, the
 *   open-coded loop needs 6.4): every program hangs off tp_btf/task_rename,
 *   which the measuring thread fires with prctl(PR_SET_NAME); the program
 *   takes the arguments from cm_args under that thread's id and runs only
 *   when their op is its own. The tracepoint fires with preemption disabled,
 *   so a batch there is not preemptible (a SYSCALL test run is).
 */
#ifdef KPL_CM_TRACING
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, struct kpl_cm_args);
} cm_args SEC(".maps");

#define KPL_CM_PROG(name) SEC("tp_btf/task_rename") int cm_##name(void *ctx)
#define KPL_CM_ARGS(id)                                                        \
	__u32 tid_ = (__u32)bpf_get_current_pid_tgid();                       \
	struct kpl_cm_args *a = bpf_map_lookup_elem(&cm_args, &tid_);         \
	if (!a || a->op != (id))                                               \
		return 0;
#else
#define KPL_CM_PROG(name) SEC("syscall") int cm_##name(struct kpl_cm_args *a)
#define KPL_CM_ARGS(id)
#endif

/*
 * BENCH(name, id, stmt): stmt runs n times with m, m2 (filled per density;
 * m2 is the complement pattern for HALF so and/or/xor do real work) and dst
 * in scope; it adds its result to acc.
 *
 * One bpf_for may not span more than KPL_CM_INNER_MAX iterations (else it
 * runs none), while a fast kfunc needs n well above that for a 10 ms batch:
 * the n iterations run as `outer` inner loops, the first `rem` of them one
 * longer than the others, each at most KPL_CM_INNER_MAX. Every program,
 * the empty-loop baselines included, has this shape, so subtracting the
 * baseline of the same n still removes all loop overhead. The iterations
 * actually run are summed from the last index of each inner loop (not
 * counted per operation, which would add to what is timed) and reported in
 * a->iterations; user space drops a batch where they differ from n. Nested
 * open-coded iterators are in the 6.4 series' own selftests (progs/iters.c,
 * iter_nested_iters); on 6.18 the largest program here verifies in ~1,300
 * processed instructions (was ~550 with one loop).
 */
#define BENCH(name, id, stmt)                                                  \
KPL_CM_PROG(name)                                                              \
{                                                                              \
	KPL_CM_ARGS(id)                                                        \
	struct bpf_cpumask *m, *m2, *dst;                                      \
	__u64 t0, t1, acc = 0, done = 0, n = a->n;                             \
	__u64 outer = (n + KPL_CM_INNER_MAX - 1) / KPL_CM_INNER_MAX;           \
	__u64 inner = outer ? n / outer : 0, rem = outer ? n % outer : 0;      \
	__u32 cpu __attribute__((unused)) = a->cpu;                            \
	int o, i, len;                                                         \
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
	bpf_for(o, 0, outer) {                                                 \
		len = inner + (o < rem);                                       \
		i = -1;                                                        \
		bpf_for(i, 0, len) {                                           \
			stmt;                                                  \
		}                                                              \
		done += i + 1;                                                 \
	}                                                                      \
	t1 = bpf_ktime_get_ns();                                               \
	a->elapsed_ns = t1 - t0;                                               \
	a->result = acc;                                                       \
	a->iterations = done;                                                  \
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
