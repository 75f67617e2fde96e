// SPDX-License-Identifier: GPL-2.0-only
/*
 * mmap_lock waits and holds from the three mmap_lock tracepoints
 * (mm/mmap_lock.c):
 *   start_locking(mm, write)            before every lock and trylock
 *   acquire_returned(mm, write, success) after it, and on a write->read
 *                                       downgrade (with no start)
 *   released(mm, write)                 on unlock
 * Up to 6.13 each carries `const char *memcg_path` after mm; from 6.14 the
 * memcg is computed inside the event and the arguments are (mm, write[,
 * success]). User space loads one flavour, found in BTF (tracer.cpp),
 * as tp_btf where the kernel allows it, else as raw_tp.
 *
 * Per task: the open waits (start -> acquire_returned; an interrupt's
 * trylock nested in a task's wait gets a slot of its own) and the held
 * locks (acquire -> released), in task storage (freed with the task;
 * recursion refused, counted), or where the kernel refuses task storage to
 * these programs, in an LRU hash by tid with per-CPU lists whose entries
 * are deleted at exit. Wait = start to a successful return (a successful
 * trylock: tens of ns); a failed attempt (trylock, or killable lock and a
 * fatal signal) is counted, not timed. An acquire_returned with no start
 * is a downgrade when the task holds that mm for write (the write hold
 * ends, a read hold begins). Waits and holds that began before the point
 * was armed are counted, never timed.
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "mmap_lock.h"

char LICENSE[] SEC("license") = "GPL";

/* The probe's process: its tasks and its children's are "ours". */
const volatile __u32 target_tgid;
/* Counting and timing on; state is tracked whenever attached, so a hold
 * taken before arming still pairs with its release. */
__u32 armed;
/* The probe process's own mm (cross-check: &our_mm->mmap_lock). */
__u64 our_mm;
/* bpf_ktime_get_ns() when user space armed the point: earlier starts are
 * not timed. */
__u64 arm_ts;
/* Per-task state in task storage (1) or in the LRU hash (0); user space
 * loads with 1 first. */
const volatile __u32 use_task_storage = 1;

struct task_state {
	__u64 wait_ts[KPL_ML_WAIT_SLOTS];
	__u64 wait_mm[KPL_ML_WAIT_SLOTS];
	__u32 wait_write[KPL_ML_WAIT_SLOTS];
	__u32 waits;	/* open waits, the innermost last */
	__u64 hold_mm[KPL_ML_HOLD_SLOTS];
	__u64 hold_ts[KPL_ML_HOLD_SLOTS];
	__u32 hold_write[KPL_ML_HOLD_SLOTS];
};

/* With use_task_storage 0, user space makes this a 1-entry hash (never
 * touched: the verifier does not walk the branch that uses it). */
struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct task_state);
} task_store SEC(".maps");

/* With use_task_storage 1, user space sizes this to 1 entry. Per-CPU LRU
 * lists: one CPU's many tasks never evict the entries of another's. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(map_flags, BPF_F_NO_COMMON_LRU);
	__uint(max_entries, 32768);
	__type(key, __u32);
	__type(value, struct task_state);
} tasks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, KPL_ML_NR_HISTS);
	__type(key, __u32);
	__type(value, struct kpl_ml_hist);
} hists SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, KPL_ML_NR_COUNTS);
	__type(key, __u32);
	__type(value, struct kpl_ml_counts);
} counts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u64);
	__type(value, struct kpl_ml_cg);
} cgroups SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, struct kpl_ml_vma);
} vma SEC(".maps");

/* Events of a cgroup not counted per cgroup: the table was full. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} cgroups_dropped SEC(".maps");

/* include/linux/sched.h: set by fork, cleared by exec. */
#define KPL_PF_FORKNOEXEC 0x00000040

static __always_inline __u32 who(void)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct task_struct *t;

	if ((__u32)(id >> 32) == target_tgid)
		return KPL_ML_OURS;
	t = (struct task_struct *)bpf_get_current_task();
	/* A child of ours that runs our code (the COW storm's children, forked
	 * and never exec'd) is ours; one that exec'd something else (the perf
	 * of the cross-check) is not. */
	if (BPF_CORE_READ(t, real_parent, tgid) == (int)target_tgid &&
	    (BPF_CORE_READ(t, flags) & KPL_PF_FORKNOEXEC))
		return KPL_ML_OURS;
	return KPL_ML_OTHER;
}

static __always_inline struct kpl_ml_counts *counts_of(__u32 w, __u32 op)
{
	__u32 k = (w << 1) | op;

	return bpf_map_lookup_elem(&counts, &k);
}

static __always_inline void hist(__u32 kind, __u32 w, __u32 op, __u64 v)
{
	__u32 k = KPL_ML_HIST_IDX(kind, w, op);
	struct kpl_ml_hist *h = bpf_map_lookup_elem(&hists, &k);

	if (h)
		kpl_hist_record(h->counts, KPL_ML_HIST_LEN, &h->overflow, v);
}

static __always_inline struct kpl_ml_cg *cgroup_entry(void)
{
	__u64 id = bpf_get_current_cgroup_id();
	struct kpl_ml_cg *c = bpf_map_lookup_elem(&cgroups, &id);

	if (!c) {
		struct kpl_ml_cg zero = {};

		bpf_map_update_elem(&cgroups, &id, &zero, BPF_NOEXIST);
		c = bpf_map_lookup_elem(&cgroups, &id);
		if (!c) {
			__u32 k = 0;
			__u64 *d = bpf_map_lookup_elem(&cgroups_dropped, &k);

			if (d)
				(*d)++;
		}
	}
	return c;
}

/* The current task's state; with create, made when missing (a failure
 * is counted in c when armed). */
static __always_inline struct task_state *state(int create, struct kpl_ml_counts *c)
{
	struct task_state *s;

	if (use_task_storage) {
		s = bpf_task_storage_get(&task_store, bpf_get_current_task_btf(), 0,
					 create ? BPF_LOCAL_STORAGE_GET_F_CREATE : 0);
	} else {
		__u32 tid = (__u32)bpf_get_current_pid_tgid();

		s = bpf_map_lookup_elem(&tasks, &tid);
		if (!s && create) {
			struct task_state zero = {};

			bpf_map_update_elem(&tasks, &tid, &zero, BPF_NOEXIST);
			s = bpf_map_lookup_elem(&tasks, &tid);
		}
	}
	if (!s && create && c)
		c->state_failed++;
	return s;
}

/* A hold begins: take a free slot (a full table leaves it untimed). */
static __always_inline void hold_begin(struct task_state *s, struct kpl_ml_counts *c,
				       __u64 mm, __u32 write, __u64 now)
{
	int i;

#pragma unroll
	for (i = 0; i < KPL_ML_HOLD_SLOTS; i++) {
		if (!s->hold_mm[i]) {
			s->hold_mm[i] = mm;
			s->hold_ts[i] = now;
			s->hold_write[i] = write;
			return;
		}
	}
	if (c && armed)
		c->slots_full++;
}

/* A hold of mm ends: its start time, 0 when the task held no lock on mm. */
static __always_inline __u64 hold_end(struct task_state *s, __u64 mm, __u32 write)
{
	__u64 ts;
	int i;

#pragma unroll
	for (i = 0; i < KPL_ML_HOLD_SLOTS; i++) {
		if (s->hold_mm[i] == mm && s->hold_write[i] == write) {
			ts = s->hold_ts[i];
			s->hold_mm[i] = 0;
			return ts;
		}
	}
	return 0;
}

static __always_inline void timed_hold(struct kpl_ml_counts *c, __u32 w, __u32 op, __u64 start,
				       __u64 now)
{
	struct kpl_ml_cg *cg;
	__u64 d;

	if (start < arm_ts) {
		c->before_arm++;
		return;
	}
	if (now < start) {
		c->negative++;
		return;
	}
	d = now - start;
	hist(KPL_ML_HOLD, w, op, d);
	c->hold_ns_total += d;
	if (d > c->hold_ns_max)
		c->hold_ns_max = d;
	cg = cgroup_entry();
	if (cg)
		cg->hold_ns_total[op] += d;
}

static __always_inline int on_start(__u64 mm, __u32 write)
{
	struct kpl_ml_counts *c = armed ? counts_of(who(), write) : 0;
	struct task_state *s = state(1, c);
	__u64 now = bpf_ktime_get_ns();

	if (c)
		c->start_locking++;
	if (!s)
		return 0;
	/* Explicit slots: the verifier sees every index bounded. */
	if (s->waits == 0) {
		s->wait_ts[0] = now;
		s->wait_mm[0] = mm;
		s->wait_write[0] = write;
		s->waits = 1;
	} else if (s->waits == 1) {
		s->wait_ts[1] = now;
		s->wait_mm[1] = mm;
		s->wait_write[1] = write;
		s->waits = 2;
	} else if (c) {
		c->nested_dropped++;
	}
	return 0;
}

/* Closes the innermost open wait on (mm, write): its start time, or 0 when
 * the task has none open. */
static __always_inline __u64 wait_end(struct task_state *s, __u64 mm, __u32 write)
{
	__u64 ts;

	if (s->waits == 2 && s->wait_mm[1] == mm && s->wait_write[1] == write) {
		s->waits = 1;
		return s->wait_ts[1];
	}
	if (s->waits >= 1 && s->wait_mm[0] == mm && s->wait_write[0] == write) {
		ts = s->wait_ts[0];
		if (s->waits == 2) {	/* the outer one returned first: keep the inner */
			s->wait_ts[0] = s->wait_ts[1];
			s->wait_mm[0] = s->wait_mm[1];
			s->wait_write[0] = s->wait_write[1];
		}
		s->waits--;
		return ts;
	}
	return 0;
}

static __always_inline int on_acquire(__u64 mm, __u32 write, __u32 success)
{
	__u64 now = bpf_ktime_get_ns(), start, d;
	struct kpl_ml_counts *c = 0;
	struct task_state *s;
	struct kpl_ml_cg *cg;
	__u32 w = 0;

	if (armed) {
		w = who();
		c = counts_of(w, write);
		if ((__u32)(bpf_get_current_pid_tgid() >> 32) == target_tgid)
			our_mm = mm;
	}
	s = state(1, c);
	if (!s)
		return 0;
	start = wait_end(s, mm, write);
	if (start) {
		/* A blocking lock returns. */
		if (!success) {
			if (c)
				c->failed++;
			return 0;
		}
		hold_begin(s, c, mm, write, now);
		if (!c)
			return 0;
		c->acquired++;
		cg = cgroup_entry();
		if (cg)
			cg->acquired[write]++;
		if (start < arm_ts) {
			c->before_arm++;
			return 0;
		}
		if (now < start) {
			c->negative++;
			return 0;
		}
		d = now - start;
		hist(KPL_ML_WAIT, w, write, d);
		c->wait_ns_total += d;
		if (d > c->wait_ns_max)
			c->wait_ns_max = d;
		if (cg) {
			cg->waited[write]++;
			cg->wait_ns_total[write] += d;
			if (d > cg->wait_ns_max[write])
				cg->wait_ns_max[write] = d;
		}
		return 0;
	}
	if (!write && success) {
		/* Holding mm for write: mmap_write_downgrade(). */
		start = hold_end(s, mm, 1);
		if (start) {
			hold_begin(s, c, mm, 0, now);
			if (c) {
				struct kpl_ml_counts *cw = counts_of(w, 1);

				c->downgraded++;
				if (cw)
					timed_hold(cw, w, 1, start, now);
			}
			return 0;
		}
	}
	/* No start seen: the task's state was evicted, or the probe attached
	 * between the two events. Counted; a hold still begins. */
	if (c)
		c->unpaired_acquire++;
	if (success)
		hold_begin(s, c, mm, write, now);
	return 0;
}

static __always_inline int on_release(__u64 mm, __u32 write)
{
	__u64 now = bpf_ktime_get_ns(), start = 0;
	struct task_state *s = state(0, 0);
	struct kpl_ml_counts *c;
	__u32 w;

	if (s)
		start = hold_end(s, mm, write);
	if (!armed)
		return 0;
	w = who();
	c = counts_of(w, write);
	if (!c)
		return 0;
	c->released++;
	if (!start) {
		c->release_unmatched++;
		return 0;
	}
	timed_hold(c, w, write, start, now);
	return 0;
}

/*
 * Four sets of the same three programs: {tp_btf, raw_tp} x {memcg_path
 * (<= 6.13), memcg id computed inside the event (6.14+)}. Only one set is
 * loaded. bool arguments arrive as 0/1 in a u64 slot.
 */
#define KPL_ML_PROGS(sec, sfx)                                                       \
SEC(sec "/mmap_lock_start_locking")                                                  \
int BPF_PROG(start_path_##sfx, struct mm_struct *mm, const char *path, bool write)   \
{ return on_start((__u64)mm, write); }                                              \
SEC(sec "/mmap_lock_acquire_returned")                                               \
int BPF_PROG(acquire_path_##sfx, struct mm_struct *mm, const char *path, bool write,  \
	     bool success)                                                           \
{ return on_acquire((__u64)mm, write, success); }                                   \
SEC(sec "/mmap_lock_released")                                                       \
int BPF_PROG(release_path_##sfx, struct mm_struct *mm, const char *path, bool write) \
{ return on_release((__u64)mm, write); }                                            \
SEC(sec "/mmap_lock_start_locking")                                                  \
int BPF_PROG(start_id_##sfx, struct mm_struct *mm, bool write)                       \
{ return on_start((__u64)mm, write); }                                              \
SEC(sec "/mmap_lock_acquire_returned")                                               \
int BPF_PROG(acquire_id_##sfx, struct mm_struct *mm, bool write, bool success)       \
{ return on_acquire((__u64)mm, write, success); }                                   \
SEC(sec "/mmap_lock_released")                                                       \
int BPF_PROG(release_id_##sfx, struct mm_struct *mm, bool write)                     \
{ return on_release((__u64)mm, write); }

KPL_ML_PROGS("tp_btf", btf)
KPL_ML_PROGS("raw_tp", raw)

/* The LRU's entries go with their task (loaded with use_task_storage 0
 * only; task storage is freed by the kernel). */
static __always_inline int on_exit(void)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();

	bpf_map_delete_elem(&tasks, &tid);
	return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(exit_btf, struct task_struct *p) { return on_exit(); }

SEC("raw_tp/sched_process_exit")
int BPF_PROG(exit_raw, struct task_struct *p) { return on_exit(); }

/* Per-VMA lock outcome of a fault: NULL means the fault falls back to
 * mmap_lock (6.4+; counted only where /proc/vmstat has no vma_lock_*). */
SEC("fexit/lock_vma_under_rcu")
int BPF_PROG(vma_exit, struct mm_struct *mm, unsigned long address, struct vm_area_struct *ret)
{
	struct kpl_ml_vma *v;
	__u32 w;

	if (!armed)
		return 0;
	w = who();
	v = bpf_map_lookup_elem(&vma, &w);
	if (!v)
		return 0;
	/* Preemptible (fexit runs with migration off, not preemption): a task
	 * that preempts this one on the CPU may update the same slot. */
	if (ret)
		__sync_fetch_and_add(&v->success, 1);
	else
		__sync_fetch_and_add(&v->fallback, 1);
	return 0;
}
