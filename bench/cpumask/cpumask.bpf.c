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

#include "cpumask_bench.bpf.h"

char LICENSE[] SEC("license") = "GPL";

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
