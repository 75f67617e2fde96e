/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Kernel-version shims of the cpumask probe, in one place:
 * - bpf_cpumask_* kfuncs (kernel/bpf/cpumask.c): 6.3 create..any_and;
 *   6.5 first_and, any/any_and renamed any_distribute/any_and_distribute
 *   (commit "bpf: Replace bpf_cpumask_any* with bpf_cpumask_any_distribute*");
 *   6.8 weight; 6.10 callable from SYSCALL programs. Declared __weak so an
 *   object still opens where one is missing; user space does not load the
 *   program of a kfunc the running kernel's BTF lacks.
 * - Open-coded number iterators (6.4, bpf_iter_num_*): libbpf 1.1's
 *   bpf_helpers.h predates its bpf_for macro, so it is defined here.
 */
#ifndef KPERFLAB_CPUMASK_KFUNCS_BPF_H
#define KPERFLAB_CPUMASK_KFUNCS_BPF_H

struct bpf_cpumask *bpf_cpumask_create(void) __ksym __weak;
void bpf_cpumask_release(struct bpf_cpumask *cpumask) __ksym __weak;
struct bpf_cpumask *bpf_cpumask_acquire(struct bpf_cpumask *cpumask) __ksym __weak;
u32 bpf_cpumask_first(const struct cpumask *cpumask) __ksym __weak;
u32 bpf_cpumask_first_zero(const struct cpumask *cpumask) __ksym __weak;
u32 bpf_cpumask_first_and(const struct cpumask *src1, const struct cpumask *src2) __ksym __weak;
void bpf_cpumask_set_cpu(u32 cpu, struct bpf_cpumask *cpumask) __ksym __weak;
void bpf_cpumask_clear_cpu(u32 cpu, struct bpf_cpumask *cpumask) __ksym __weak;
bool bpf_cpumask_test_cpu(u32 cpu, const struct cpumask *cpumask) __ksym __weak;
bool bpf_cpumask_test_and_set_cpu(u32 cpu, struct bpf_cpumask *cpumask) __ksym __weak;
bool bpf_cpumask_test_and_clear_cpu(u32 cpu, struct bpf_cpumask *cpumask) __ksym __weak;
void bpf_cpumask_setall(struct bpf_cpumask *cpumask) __ksym __weak;
void bpf_cpumask_clear(struct bpf_cpumask *cpumask) __ksym __weak;
bool bpf_cpumask_and(struct bpf_cpumask *dst, const struct cpumask *src1,
		     const struct cpumask *src2) __ksym __weak;
void bpf_cpumask_or(struct bpf_cpumask *dst, const struct cpumask *src1,
		    const struct cpumask *src2) __ksym __weak;
void bpf_cpumask_xor(struct bpf_cpumask *dst, const struct cpumask *src1,
		     const struct cpumask *src2) __ksym __weak;
bool bpf_cpumask_equal(const struct cpumask *src1, const struct cpumask *src2) __ksym __weak;
bool bpf_cpumask_intersects(const struct cpumask *src1, const struct cpumask *src2) __ksym __weak;
bool bpf_cpumask_subset(const struct cpumask *src1, const struct cpumask *src2) __ksym __weak;
bool bpf_cpumask_empty(const struct cpumask *cpumask) __ksym __weak;
bool bpf_cpumask_full(const struct cpumask *cpumask) __ksym __weak;
void bpf_cpumask_copy(struct bpf_cpumask *dst, const struct cpumask *src) __ksym __weak;
u32 bpf_cpumask_any_distribute(const struct cpumask *src) __ksym __weak;
u32 bpf_cpumask_any_and_distribute(const struct cpumask *src1,
				   const struct cpumask *src2) __ksym __weak;
u32 bpf_cpumask_weight(const struct cpumask *cpumask) __ksym __weak;

extern int bpf_iter_num_new(struct bpf_iter_num *it, int start, int end) __ksym __weak;
extern int *bpf_iter_num_next(struct bpf_iter_num *it) __ksym __weak;
extern void bpf_iter_num_destroy(struct bpf_iter_num *it) __ksym __weak;

#define bpf_for(i, start, end)                                                 \
	for (struct bpf_iter_num ___it __attribute__((aligned(8),             \
						      cleanup(bpf_iter_num_destroy))), \
	     *___p __attribute__((unused)) =                                   \
		     (bpf_iter_num_new(&___it, (start), (end)),                 \
		      (void)bpf_iter_num_destroy, (void *)0);                   \
	     ({                                                                \
		     int *___t = bpf_iter_num_next(&___it);                     \
		     (___t && ((i) = *___t, (i) >= (start) && (i) < (end)));    \
	     });)

#endif
