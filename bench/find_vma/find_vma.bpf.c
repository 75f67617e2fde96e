// SPDX-License-Identifier: GPL-2.0-only
/*
 * How often the BPF helpers that read user memory maps under mmap_lock fall
 * back (kernel/bpf/mmap_unlock_work.h), and what each call costs.
 *
 * With IRQs off (perf_event programs: cpu-clock runs in the hrtimer hardirq,
 * hardware events in NMI) mmap_read_unlock() cannot run in place; the
 * helpers take mmap_lock with mmap_read_trylock() and queue the unlock on a
 * per-CPU irq_work (do_mmap_read_unlock). They give up ("busy") when that
 * irq_work is still queued, when the trylock fails (a writer holds or waits
 * for the lock), and on PREEMPT_RT always:
 *   bpf_find_vma                      -> -EBUSY
 *   bpf_get_stack(USER_STACK|USER_BUILD_ID) -> every frame BPF_STACK_BUILD_ID_IP
 *
 * One perf_event program runs on our sampled threads. Both helpers share
 * the per-CPU irq_work, so a run does one or the other, alternating per CPU:
 * even runs call bpf_find_vma on the sampled IP twice (the second is the
 * oracle: after a first call that took the lock, the irq_work is queued and
 * cannot have run, IRQs being off, so the second must see -EBUSY), odd runs
 * take a build-id user stack. A sleepable uprobe (6.12+: faultable build-id
 * reads, IRQs on, direct unlock) takes the same stack for comparison.
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "find_vma.h"

char LICENSE[] SEC("license") = "GPL";

#define EBUSY 16
#define ENOENT 2

/* The probe's process: only its threads are counted. */
const volatile __u32 target_tgid;
/* Counting on. */
__u32 armed;

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, KPL_FV_NR_SOURCES);
	__type(key, __u32);
	__type(value, struct kpl_fv_counts);
} counts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, KPL_FV_NR_HISTS);
	__type(key, __u32);
	__type(value, struct kpl_fv_hist);
} hists SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct kpl_fv_unlocks);
} unlocks SEC(".maps");

/* The sleepable program runs with migration off but preemptible: a task
 * that preempts it on the same CPU and enters it too would share the
 * per-CPU slots (counts, histograms, frames). 1 while a run owns this
 * CPU's slots; a second run skips, counted (busy_skipped). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} sleepable_owner SEC(".maps");

/* Build-id frames: 512 bytes, too large for the BPF stack. */
struct frames {
	struct bpf_stack_build_id f[KPL_FV_MAX_FRAMES];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, KPL_FV_NR_SOURCES);
	__type(key, __u32);
	__type(value, struct frames);
} scratch SEC(".maps");

static __always_inline int ours(void)
{
	return armed && (__u32)(bpf_get_current_pid_tgid() >> 32) == target_tgid;
}

static __always_inline void record(__u32 src, __u32 call, __u64 t0, __u64 t1,
				   struct kpl_fv_counts *c)
{
	__u32 k = KPL_FV_HIST_IDX(src, call);
	struct kpl_fv_hist *h;

	if (t1 < t0) {
		c->negative++;
		return;
	}
	h = bpf_map_lookup_elem(&hists, &k);
	if (h)
		kpl_hist_record(h->counts, KPL_FV_HIST_LEN, &h->overflow, t1 - t0);
}

static __always_inline __u32 outcome(long ret)
{
	if (ret == 0)
		return KPL_FV_OK;
	if (ret == -EBUSY)
		return KPL_FV_EBUSY;
	if (ret == -ENOENT)
		return KPL_FV_ENOENT;
	return KPL_FV_OTHER;
}

static long vma_cb(struct task_struct *task, struct vm_area_struct *vma, void *data)
{
	return 0;
}

/* Two bpf_find_vma calls on addr, each timed; the second is the oracle. */
static __always_inline void find_vma_pair(__u32 src, struct kpl_fv_counts *c, __u64 addr)
{
	struct task_struct *task = bpf_get_current_task_btf();
	__u64 t0, t1, t2;
	long r1, r2;
	__u32 o1, o2;

	t0 = bpf_ktime_get_ns();
	r1 = bpf_find_vma(task, addr, vma_cb, NULL, 0);
	t1 = bpf_ktime_get_ns();
	r2 = bpf_find_vma(task, addr, vma_cb, NULL, 0);
	t2 = bpf_ktime_get_ns();
	o1 = outcome(r1);
	o2 = outcome(r2);
	c->find_vma_calls++;
	c->oracle_calls++;
	if (o1 < KPL_FV_NR_OUTCOMES)
		c->find_vma[o1]++;
	if (o2 < KPL_FV_NR_OUTCOMES)
		c->oracle[o2]++;
	/* 0 means the lock was taken and its unlock handed to the irq_work
	 * (when IRQs are off): the irq_work is busy until IRQs come back. */
	if (o1 == KPL_FV_OK && o2 != KPL_FV_EBUSY)
		c->oracle_not_busy++;
	record(src, KPL_FV_FIND_VMA, t0, t1, c);
	record(src, KPL_FV_ORACLE, t1, t2, c);
}

/* One build-id user stack, timed; its frames classified. */
static __always_inline void build_id_stack(void *ctx, __u32 src, struct kpl_fv_counts *c)
{
	struct frames *fr = bpf_map_lookup_elem(&scratch, &src);
	__u64 t0, t1, valid = 0, ip = 0, other = 0;
	long n;
	int i;

	if (!fr)
		return;
	t0 = bpf_ktime_get_ns();
	n = bpf_get_stack(ctx, fr->f, sizeof(fr->f), BPF_F_USER_STACK | BPF_F_USER_BUILD_ID);
	t1 = bpf_ktime_get_ns();
	c->stack_calls++;
	record(src, KPL_FV_STACK, t0, t1, c);
	if (n < 0) {
		c->stack_errors++;
		return;
	}
	n /= sizeof(struct bpf_stack_build_id);
#pragma unroll
	for (i = 0; i < KPL_FV_MAX_FRAMES; i++) {
		if (i >= n)
			break;
		if (fr->f[i].status == BPF_STACK_BUILD_ID_VALID)
			valid++;
		else if (fr->f[i].status == BPF_STACK_BUILD_ID_IP)
			ip++;
		else
			other++;
	}
	c->frames_valid += valid;
	c->frames_ip += ip;
	c->frames_empty += other;
	if (ip && !valid)
		c->stack_all_ip++;
	else if (ip)
		c->stack_some_ip++;
	else if (valid)
		c->stack_all_valid++;
}

static __always_inline int on_sample(struct bpf_perf_event_data *ctx, __u32 src)
{
	struct kpl_fv_counts *c;

	if (!ours())
		return 0;
	c = bpf_map_lookup_elem(&counts, &src);
	if (!c)
		return 0;
	/* Alternate per CPU: a stack after a find_vma in the same run would
	 * only see the irq_work the find_vma queued. */
	if (c->samples++ & 1)
		build_id_stack(ctx, src, c);
	else
		find_vma_pair(src, c, PT_REGS_IP(&ctx->regs));
	return 0;
}

SEC("perf_event")
int sample_clock(struct bpf_perf_event_data *ctx)
{
	return on_sample(ctx, KPL_FV_CLOCK);
}

SEC("perf_event")
int sample_cycles(struct bpf_perf_event_data *ctx)
{
	return on_sample(ctx, KPL_FV_CYCLES);
}

/*
 * Sleepable uprobe on kperflab_find_vma_mark() (find_vma.cpp): task
 * context, IRQs on. bpf_find_vma unlocks directly; bpf_get_stack may fault
 * the build id in where the kernel has the faultable parse (6.12's
 * build_id_parse / build_id_parse_nofault split); older kernels load the
 * program too (6.1 does) and take the page-cache-only parse
 * (Sampler::sleepable_stack() says which, from BTF).
 */
SEC("uprobe.s")
int mark_sleepable(struct pt_regs *ctx)
{
	__u32 src = KPL_FV_UPROBE_S, zero = 0;
	struct kpl_fv_counts *c;
	__u64 *owner;

	if (!ours())
		return 0;
	c = bpf_map_lookup_elem(&counts, &src);
	owner = bpf_map_lookup_elem(&sleepable_owner, &zero);
	if (!c || !owner)
		return 0;
	if (__sync_val_compare_and_swap(owner, 0, 1) != 0) {
		__sync_fetch_and_add(&c->busy_skipped, 1);
		return 0;
	}
	c->samples++;
	find_vma_pair(src, c, PT_REGS_IP(ctx));
	build_id_stack(ctx, src, c);
	*owner = 0;  /* ours since the compare-and-swap: a plain store releases it */
	return 0;
}

/* The irq_work callback that runs a deferred mmap_read_unlock(). */
SEC("fentry/do_mmap_read_unlock")
int BPF_PROG(deferred_unlock, struct irq_work *entry)
{
	__u32 k = 0;
	struct kpl_fv_unlocks *u;

	if (!armed)
		return 0;
	u = bpf_map_lookup_elem(&unlocks, &k);
	if (!u)
		return 0;
	__sync_fetch_and_add(&u->deferred_all, 1);
	if ((__u32)(bpf_get_current_pid_tgid() >> 32) == target_tgid)
		__sync_fetch_and_add(&u->deferred_ours, 1);
	return 0;
}
