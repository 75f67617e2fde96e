// SPDX-License-Identifier: GPL-2.0-only
/*
 * ns per bpf_cpumask_* kfunc: one program per operation (cpumask_ops.def).
 * Each program builds its masks, reads bpf_ktime_get_ns, runs the operation
 * n times in nested open-coded loops (one may not exceed 2^23 iterations),
 * reads the clock again, sinks the results into a global so nothing is
 * optimized away, and reports how many iterations ran. The "baseline"
 * program is the same loop without the kfunc: user space subtracts it.
 * Kfuncs are __weak: a program whose kfunc the kernel lacks is not loaded
 * (user space checks BTF first).
 *
 * Built twice: as SYSCALL programs run by BPF_PROG_TEST_RUN (this file;
 * kfuncs callable there from 6.10; no `repeat` exists for these program
 * types), and as TRACING programs (cpumask_tracing.bpf.c defines
 * KPL_CM_TRACING and includes this file) for 6.4-6.9.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#include "cpumask_bench.bpf.h"

char LICENSE[] SEC("license") = "GPL";

enum {
#define KPL_CM_OP(name, ...) KPL_CM_ID_##name,
#include "cpumask_ops.def"
#undef KPL_CM_OP
};

#define KPL_CM_OP(name, ...) BENCH(name, KPL_CM_ID_##name, __VA_ARGS__)
#include "cpumask_ops.def"
#undef KPL_CM_OP

/* Correctness probe: weight after setall must equal nr_cpu_ids. */
KPL_CM_PROG(check_setall_weight)
{
	KPL_CM_ARGS(KPL_CM_CHECK_ID)
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
