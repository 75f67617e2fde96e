// SPDX-License-Identifier: GPL-2.0-only
/*
 * membarrier IPI delivery. Send time, best first: csd:csd_queue_cpu (6.5+,
 * per target CPU), fentry smp_call_function_many_cond, the caller's
 * membarrier() syscall entry (tp_btf/sys_enter). Receive time, on the
 * target CPU: fentry on the IPI callbacks (ipi_mb, ipi_rseq, ipi_sync_core:
 * static but address-taken, in BTF) or, where fentry is not permitted,
 * csd:csd_function_entry (6.5+) filtered on the callbacks' addresses.
 * User space loads only what the running kernel accepts (delivery.cpp).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "membarrier.h"

char LICENSE[] SEC("license") = "GPL";

const volatile __u32 target_tgid;
const volatile long membarrier_nr;
/* kallsyms addresses of ipi_mb, ipi_rseq, ipi_sync_core (csd tracepoints). */
const volatile __u64 ipi_funcs[3];

/* Written by the single measuring caller; one call is in flight at a time
 * (the syscall waits for every IPI handler before it returns). */
__u64 entry_ts;
__u64 send_ts;
__u64 calls;
__u32 armed;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1); /* set to the possible CPU count at load */
	__type(key, __u32);
	__type(value, struct kpl_mb_cpu);
} cpus SEC(".maps");

static __always_inline int is_caller(void)
{
	return armed && (bpf_get_current_pid_tgid() >> 32) == target_tgid;
}

SEC("tp_btf/sys_enter")
int BPF_PROG(mb_sys_enter, struct pt_regs *regs, long id)
{
	if (id != membarrier_nr || !is_caller())
		return 0;
	entry_ts = bpf_ktime_get_ns();
	send_ts = entry_ts;
	__sync_fetch_and_add(&calls, 1);
	return 0;
}

SEC("fentry/smp_call_function_many_cond")
int BPF_PROG(mb_send)
{
	if (is_caller())
		send_ts = bpf_ktime_get_ns();
	return 0;
}

static __always_inline int is_ipi_func(__u64 f)
{
	return f && (f == ipi_funcs[0] || f == ipi_funcs[1] || f == ipi_funcs[2]);
}

/* raw_tp, not tp_btf: the verifier refuses to read a function-pointer
 * argument of a BTF tracepoint ("type FUNC_PROTO is not a struct"). */
SEC("raw_tp/csd_queue_cpu")
int BPF_PROG(mb_csd_queue, unsigned int cpu, unsigned long callsite, void *func, void *csd)
{
	struct kpl_mb_cpu *c;
	__u32 key = cpu;

	if (!is_caller() || !is_ipi_func((__u64)func))
		return 0;
	c = bpf_map_lookup_elem(&cpus, &key);
	if (c)
		c->queued_ts = bpf_ktime_get_ns();
	return 0;
}

static __always_inline int record_delivery(void)
{
	struct kpl_mb_cpu *c;
	__u32 cpu;
	__u64 now, sent;

	if (!armed)
		return 0;
	now = bpf_ktime_get_ns();
	cpu = bpf_get_smp_processor_id();
	c = bpf_map_lookup_elem(&cpus, &cpu);
	if (!c)
		return 0;
	c->received++;
	sent = c->queued_ts ? c->queued_ts : send_ts;
	c->queued_ts = 0;
	if (sent && now >= sent)
		kpl_hist_record(c->counts, KPL_MB_HIST_LEN, &c->overflow, now - sent);
	return 0;
}

SEC("fentry/ipi_mb")
int BPF_PROG(mb_ipi_mb)
{
	return record_delivery();
}

SEC("fentry/ipi_rseq")
int BPF_PROG(mb_ipi_rseq)
{
	return record_delivery();
}

SEC("fentry/ipi_sync_core")
int BPF_PROG(mb_ipi_sync_core)
{
	return record_delivery();
}

SEC("raw_tp/csd_function_entry")
int BPF_PROG(mb_csd_entry, void *func, void *csd)
{
	if (!is_ipi_func((__u64)func))
		return 0;
	return record_delivery();
}
