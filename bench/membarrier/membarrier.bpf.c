// SPDX-License-Identifier: GPL-2.0-only
/*
 * membarrier IPI delivery, counted only when a callback pairs with a send of
 * ours (membarrier.h: the three modes). Receive time, on the target CPU:
 * csd:csd_function_entry (6.5+) or fentry on the callbacks (ipi_mb,
 * ipi_rseq, ipi_sync_core: static but address-taken, in BTF). Send time:
 * csd:csd_queue_cpu per target, or fentry on the send functions, or (last
 * resort) our membarrier() entry. Callbacks of other processes' membarrier
 * calls are counted as foreign and never timed. User space loads only the
 * programs of one mode, the one the running kernel accepts (delivery.cpp).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "membarrier.h"

char LICENSE[] SEC("license") = "GPL";

/* The process whose sends are ours: set before each arm (not rodata: the
 * registration-order points trace a child process of the probe). */
__u32 target_tgid;
const volatile __u32 mode;	/* enum kpl_mb_mode */
const volatile __u32 nr_cpus;	/* possible CPUs: entries of `cpus` */
const volatile long membarrier_nr;
/* kallsyms addresses of ipi_mb, ipi_rseq, ipi_sync_core. */
const volatile __u64 ipi_funcs[3];

__u32 armed;
/* Sends (SEND_FENTRY) or calls (CALL_WINDOW) of ours get increasing
 * generations; `inflight` is the open one, 0 when none. */
__u64 seq;
__u64 inflight;
__u64 inflight_ts;	/* CALL_WINDOW: entry time of the open call */
__u32 caller_tid;	/* CALL_WINDOW: the thread whose call is open */
/* CSD: time of the first csd_queue_cpu since our last local run; a local
 * run (SYNC_CORE's own CPU) is timed from it. */
__u64 first_queue_ts;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1); /* set to the possible CPU count at load */
	__type(key, __u32);
	__type(value, struct kpl_mb_cpu);
} cpus SEC(".maps");

static __always_inline int is_ours(void)
{
	return (bpf_get_current_pid_tgid() >> 32) == target_tgid;
}

static __always_inline int is_ipi_func(__u64 f)
{
	return f && (f == ipi_funcs[0] || f == ipi_funcs[1] || f == ipi_funcs[2]);
}

static __always_inline struct kpl_mb_cpu *cpu_entry(__u32 cpu)
{
	return bpf_map_lookup_elem(&cpus, &cpu);
}

/* A callback paired with our send at `sent` (0: ours but untimed). */
static __always_inline void record(struct kpl_mb_cpu *c, __u64 now, __u64 sent)
{
	c->received++;
	if (!sent)
		return;
	/* bpf_ktime_get_ns is CLOCK_MONOTONIC, read on two CPUs: a skewed
	 * TSC (VMs) can put the callback "before" the send. */
	if (now < sent) {
		c->negative++;
		return;
	}
	kpl_hist_record(c->counts, KPL_MB_HIST_LEN, &c->overflow, now - sent);
}

/* ---- CSD: pair by csd pointer --------------------------------------- */

/* raw_tp, not tp_btf: the verifier refuses to read a function-pointer
 * argument of a BTF tracepoint ("type FUNC_PROTO is not a struct"). */
SEC("raw_tp/csd_queue_cpu")
int BPF_PROG(mb_csd_queue, unsigned int cpu, unsigned long callsite, void *func, void *csd)
{
	struct kpl_mb_cpu *c;
	__u64 now;

	if (!armed || !is_ipi_func((__u64)func) || !is_ours())
		return 0;
	c = cpu_entry(cpu);
	if (!c)
		return 0;
	now = bpf_ktime_get_ns();
	/* Written before the kernel's llist_add (a full barrier) and the IPI:
	 * the target sees both fields. */
	c->pend_ts = now;
	c->pend_csd = (__u64)csd;
	if (!first_queue_ts)
		first_queue_ts = now;
	return 0;
}

static __always_inline int deliver_csd(__u64 csd)
{
	struct kpl_mb_cpu *c = cpu_entry(bpf_get_smp_processor_id());
	__u64 now = bpf_ktime_get_ns(), sent;

	if (!c)
		return 0;
	if (!csd) {
		/* csd_do_func(func, info, NULL): a sender running the callback
		 * on its own CPU, in its own task, so the tgid says whose. (An
		 * IPI interrupting our task always has a csd.) */
		if (!is_ours()) {
			c->foreign++;
			return 0;
		}
		sent = first_queue_ts;
		first_queue_ts = 0;
		record(c, now, sent);
		return 0;
	}
	if (c->pend_csd != csd) {
		c->foreign++;
		return 0;
	}
	c->pend_csd = 0;
	record(c, now, c->pend_ts);
	return 0;
}

/* ---- SEND_FENTRY / CALL_WINDOW: pair by an open send or call --------- */

static __always_inline int deliver_open(void)
{
	struct kpl_mb_cpu *c = cpu_entry(bpf_get_smp_processor_id());
	__u64 now = bpf_ktime_get_ns(), gen = inflight;

	if (!c)
		return 0;
	if (mode == KPL_MB_MODE_SEND_FENTRY) {
		if (gen && c->pend_gen == gen) {
			c->pend_gen = 0;
			record(c, now, c->pend_ts);
		} else {
			c->foreign++;
		}
		return 0;
	}
	if (gen && c->done_gen != gen) {
		c->done_gen = gen;
		record(c, now, inflight_ts);
	} else {
		c->foreign++;
	}
	return 0;
}

SEC("raw_tp/csd_function_entry")
int BPF_PROG(mb_csd_entry, void *func, void *csd)
{
	if (!armed || !is_ipi_func((__u64)func))
		return 0;
	if (mode == KPL_MB_MODE_CSD)
		return deliver_csd((__u64)csd);
	return deliver_open();
}

SEC("fentry/ipi_mb")
int BPF_PROG(mb_ipi_mb)
{
	return armed ? deliver_open() : 0;
}

SEC("fentry/ipi_rseq")
int BPF_PROG(mb_ipi_rseq)
{
	return armed ? deliver_open() : 0;
}

SEC("fentry/ipi_sync_core")
int BPF_PROG(mb_ipi_sync_core)
{
	return armed ? deliver_open() : 0;
}

static __always_inline void mark_cpu(__u32 cpu, __u64 gen, __u64 now)
{
	struct kpl_mb_cpu *c;

	if (cpu >= nr_cpus)
		return;
	c = cpu_entry(cpu);
	if (!c)
		return;
	c->pend_ts = now;
	c->pend_gen = gen;
}

/* Marks every possible CPU set in the kernel cpumask at `mask`, read one
 * word at a time (no variable-offset stack access: 6.1's verifier). The
 * sender's own CPU runs the callback only with SCF_RUN_LOCAL. */
static __always_inline void mark_mask(__u64 mask, __u32 self, int local, __u64 gen, __u64 now)
{
	for (__u32 w = 0; w < KPL_MB_MASK_WORDS; w++) {
		__u64 bits = 0;

		if (w * 64 >= nr_cpus)
			break;
		if (bpf_probe_read_kernel(&bits, sizeof(bits), (void *)(mask + w * 8)))
			break;
		for (__u32 b = 0; b < 64 && bits; b++, bits >>= 1) {
			__u32 cpu = w * 64 + b;

			if (!(bits & 1) || (cpu == self && !local))
				continue;
			mark_cpu(cpu, gen, now);
		}
	}
}

/* fentry on smp_call_function_many_cond(mask, func, info, scf_flags,
 * cond_func) and smp_call_function_single(cpu, func, info, wait). The
 * function-pointer argument is read with bpf_get_func_arg: a BTF access
 * to it is refused like the tracepoint's. */
static __always_inline int open_send(void *ctx, int many)
{
	__u64 func = 0, arg0 = 0, flags = 0, gen, now;

	if (!armed || !is_ours())
		return 0;
	if (bpf_get_func_arg(ctx, 1, &func) || !is_ipi_func(func))
		return 0;
	if (bpf_get_func_arg(ctx, 0, &arg0))
		return 0;
	gen = __sync_fetch_and_add(&seq, 1) + 1;
	now = bpf_ktime_get_ns();
	if (many) {
		bpf_get_func_arg(ctx, 3, &flags);
		mark_mask(arg0, bpf_get_smp_processor_id(), flags & KPL_SCF_RUN_LOCAL, gen, now);
	} else {
		mark_cpu((__u32)arg0, gen, now);
	}
	/* Opened after the marks, before the kernel queues anything. */
	inflight = gen;
	return 0;
}

/* The send waits (membarrier always passes wait) for every callback, so
 * a callback of ours never arrives after the fexit. */
static __always_inline int close_send(void)
{
	if (inflight && is_ours())
		inflight = 0;
	return 0;
}

SEC("fentry/smp_call_function_many_cond")
int BPF_PROG(mb_send_many)
{
	return open_send(ctx, 1);
}

SEC("fexit/smp_call_function_many_cond")
int BPF_PROG(mb_send_many_exit)
{
	return close_send();
}

SEC("fentry/smp_call_function_single")
int BPF_PROG(mb_send_single)
{
	return open_send(ctx, 0);
}

SEC("fexit/smp_call_function_single")
int BPF_PROG(mb_send_single_exit)
{
	return close_send();
}

/* CALL_WINDOW: our membarrier() call, on the syscall function itself
 * (fentry/fexit, target set at load: __x64_sys_membarrier, ...) or, where
 * that is refused, on the raw syscall tracepoints, which run for every
 * syscall of every process: the cheapest test comes first. */
static __always_inline void open_call(void)
{
	if (!armed || !is_ours())
		return;
	inflight_ts = bpf_ktime_get_ns();
	caller_tid = (__u32)bpf_get_current_pid_tgid();
	inflight = __sync_fetch_and_add(&seq, 1) + 1;
}

static __always_inline int close_call(void)
{
	if (inflight && caller_tid == (__u32)bpf_get_current_pid_tgid())
		inflight = 0;
	return 0;
}

SEC("fentry")
int BPF_PROG(mb_call_entry)
{
	open_call();
	return 0;
}

SEC("fexit")
int BPF_PROG(mb_call_exit)
{
	return close_call();
}

SEC("tp_btf/sys_enter")
int BPF_PROG(mb_sys_enter, struct pt_regs *regs, long id)
{
	if (id == membarrier_nr)
		open_call();
	return 0;
}

SEC("tp_btf/sys_exit")
int BPF_PROG(mb_sys_exit, struct pt_regs *regs, long ret)
{
	return inflight ? close_call() : 0;
}
