/* SPDX-License-Identifier: (GPL-2.0-only WITH Linux-syscall-note) OR BSD-2-Clause */
/*
 * kperflab.ko user API: /dev/kperflab ioctls.
 *
 * Rules:
 * - Every command struct starts with size and version (in). The module
 *   copies it with copy_struct_from_user(): a caller built against an older,
 *   shorter struct gets the new fields zeroed; a longer struct is accepted
 *   only when its unknown tail is zero (-E2BIG otherwise). A version other
 *   than KPL_UAPI_VERSION gets -EINVAL. Only the caller's size is copied out.
 * - The ioctl numbers below encode today's struct sizes; the module
 *   ignores the size bits (it dispatches on type, number and direction), so
 *   a caller built against an older or newer struct reaches the same
 *   command and the size field decides.
 * - User pointers travel as __u64; reserved fields must be zero (-EINVAL);
 *   (out) fields are ignored on input and start from zero; unknown commands
 *   get -ENOTTY.
 * - Who may call: CAP_PERFMON or CAP_SYS_ADMIN (perfmon_capable()) opens
 *   the measurements; the ones that perturb other work need CAP_SYS_ADMIN
 *   (-EPERM otherwise): a busy wait in an IPI handler (handler_delay_ns),
 *   spinning kthreads on target CPUs (KPL_IPI_TARGET_BUSY) and notifier
 *   reader kthreads.
 * - One measurement at a time, machine-wide: a second caller gets -EBUSY
 *   while one runs (KPL_IOC_INFO excepted).
 * - Every measurement is bounded by its sample count and by max_ms or
 *   duration_ms (<= KPL_MAX_MS) and ends early on any pending signal:
 *   -EINTR, with the counts so far copied out (done says how many).
 * - Histograms use include/kperflab/hist.h: the caller passes a __u64 array
 *   of hist_len counts (its first hist_len counts indexes) and receives an
 *   explicit overflow count. A sample that is not a measurement (a failed
 *   call, a handler that did not run, a negative or impossible delta) is
 *   counted in its own field and never enters a histogram.
 */
#ifndef KPERFLAB_UAPI_H
#define KPERFLAB_UAPI_H

#include <linux/ioctl.h>
#include <linux/types.h>

#define KPL_UAPI_VERSION 2
#define KPL_DEVICE "/dev/kperflab"

#define KPL_MAX_SAMPLES 1000000U
#define KPL_MAX_MS 10000U		/* time cap of one ioctl */
#define KPL_MAX_HANDLER_DELAY_NS 100000U
#define KPL_MAX_HIST_LEN 4480U		/* kpl_hist_len(2^40) */
#define KPL_MAX_ITERATIONS 100000000ULL

/* (out) what the module is; the caller fills size and version. */
struct kpl_info {
	__u32 size;		/* (in) sizeof(struct kpl_info) */
	__u32 version;		/* (in) KPL_UAPI_VERSION */
	__u32 uapi_version;	/* (out) the module's KPL_UAPI_VERSION */
	__u32 features;		/* (out) KPL_FEAT_* */
	__u32 nr_cpu_ids;	/* (out) */
	__u32 handler_delay_ns;	/* (out) module parameter handler_delay_ns */
	char module_version[32];/* (out) NUL-terminated */
	__u32 clock_granularity_ns; /* (out) smallest step seen between two reads of the
				     * clock of every timestamp (ktime_get_mono_fast_ns) */
	__u32 reserved0;	/* (in) zero */
	__u64 live_notifiers;	/* (out) interval notifiers of ours inserted and not yet
				 * removed, machine-wide: 0 whenever no KPL_IOC_NOTIFIER
				 * runs (a leak otherwise) */
	__u32 reserved[4];	/* (in) zero */
};

#define KPL_FEAT_IPI		(1U << 0)
#define KPL_FEAT_CPUMASK	(1U << 1)
/* CONFIG_CPUMASK_OFFSTACK: KPL_CMOP_ALLOC_FREE allocates (without it,
 * alloc_cpumask_var is a no-op and the op is refused with -EOPNOTSUPP). */
#define KPL_FEAT_CPUMASK_OFFSTACK (1U << 4)

enum kpl_ipi_pattern {
	/* smp_call_function_single(dst, wait=1): hist = send -> handler
	 * (one-way), hist2 = send -> return (round trip). */
	KPL_IPI_SINGLE = 0,
	/* smp_call_function_many to nr_targets CPUs, wait=1: hist = send ->
	 * last handler ran, hist2 = send -> return. */
	KPL_IPI_BROADCAST = 1,
	/* irq_work_queue on dst_cpu itself (a self-IPI; irq_work_queue_on is
	 * not exported to modules): hist = queue -> handler. */
	KPL_IPI_IRQ_WORK = 2,
	KPL_IPI_PATTERNS
};

/* What the target CPUs do while they are measured. */
enum kpl_ipi_target {
	/* Nothing of ours runs there: an idle target (on x86 a polling idle
	 * CPU gets no interrupt at all; its idle loop runs the handler). */
	KPL_IPI_TARGET_IDLE = 0,
	/* Our own kthread spins on every target (preemptible, rescheduling):
	 * every delivery is a real interrupt of a running CPU. CAP_SYS_ADMIN. */
	KPL_IPI_TARGET_BUSY = 1,
	KPL_IPI_TARGETS
};

/*
 * The sender is a kthread of ours bound to src_cpu (IRQ_WORK: to dst_cpu);
 * each sample runs with preemption disabled. Timestamps are
 * ktime_get_mono_fast_ns on every CPU; a one-way delta compares two CPUs'
 * reads of it, so samples where the handler's time lies before the send
 * (negative) or after the sender saw the call return (after_return) show
 * clocks that disagree: they are counted, never recorded. If a CPU of the
 * measurement goes offline the run stops with -ENXIO (counts copied out).
 */
struct kpl_ipi_req {
	__u32 size;		/* (in) sizeof(struct kpl_ipi_req) */
	__u32 version;		/* (in) KPL_UAPI_VERSION */
	__u32 pattern;		/* (in) enum kpl_ipi_pattern */
	__s32 src_cpu;		/* (in) online CPU the sender runs on */
	__s32 dst_cpu;		/* (in) online target != src (SINGLE, IRQ_WORK) */
	__u32 nr_targets;	/* (in) BROADCAST: first N online CPUs but src */
	__u32 samples;		/* (in) 1..KPL_MAX_SAMPLES */
	__u32 max_ms;		/* (in) 1..KPL_MAX_MS */
	__u32 handler_delay_ns;	/* (in) busy wait in our handler, <= KPL_MAX_HANDLER_DELAY_NS,
				 * added to the module parameter */
	__u32 hist_len;		/* (in) entries of both histogram buffers, 1..KPL_MAX_HIST_LEN */
	__u64 hist;		/* (in) user pointer, __u64[hist_len] (out: counts) */
	__u64 hist2;		/* (in) user pointer or 0, __u64[hist_len] */
	__u64 overflow;		/* (out) values past hist_len */
	__u64 overflow2;	/* (out) */
	__u64 done;		/* (out) samples attempted (recorded + the four below) */
	__u32 target;		/* (in) enum kpl_ipi_target */
	__u32 reserved0;	/* (in) zero */
	__u64 failed;		/* (out) the call failed or a handler did not run */
	__u64 negative;		/* (out) handler time before the send time */
	__u64 after_return;	/* (out) handler time after the sender saw the return */
	__u64 migrated;		/* (out) samples whose sender was not on its CPU */
	__u32 reserved[4];	/* (in) zero */
};

enum kpl_cpumask_op {
	KPL_CMOP_BASELINE = 0, KPL_CMOP_ALLOC_FREE, KPL_CMOP_FIRST, KPL_CMOP_FIRST_ZERO,
	KPL_CMOP_FIRST_AND, KPL_CMOP_SET_CPU, KPL_CMOP_CLEAR_CPU, KPL_CMOP_TEST_CPU,
	KPL_CMOP_TEST_AND_SET_CPU, KPL_CMOP_TEST_AND_CLEAR_CPU, KPL_CMOP_SETALL,
	KPL_CMOP_CLEAR, KPL_CMOP_AND, KPL_CMOP_OR, KPL_CMOP_XOR, KPL_CMOP_EQUAL,
	KPL_CMOP_INTERSECTS, KPL_CMOP_SUBSET, KPL_CMOP_EMPTY, KPL_CMOP_FULL, KPL_CMOP_COPY,
	KPL_CMOP_ANY_DISTRIBUTE, KPL_CMOP_ANY_AND_DISTRIBUTE, KPL_CMOP_WEIGHT,
	KPL_CMOP_OPS
};

/* One timed batch of n native cpumask operations (the baseline of the BPF
 * cpumask kfuncs): same method as the BPF probe, clock read outside the
 * loop; density as struct kpl_cm_args in bench/cpumask/cpumask.h. */
struct kpl_cpumask_req {
	__u32 size;		/* (in) */
	__u32 version;		/* (in) */
	__u32 op;		/* (in) enum kpl_cpumask_op */
	__u32 cpu;		/* (in) < nr_cpu_ids, for the *_CPU ops */
	__u32 density;		/* (in) 0 empty, 1 every other CPU, 2 all */
	__u32 reserved0;	/* (in) zero */
	__u64 n;		/* (in) 1..KPL_MAX_ITERATIONS */
	__u64 elapsed_ns;	/* (out) */
	__u64 result;		/* (out) sum of the results (sink) */
	__u32 reserved[4];	/* (in) zero */
};

#define KPL_IOC_MAGIC 0xB7
#define KPL_IOC_INFO _IOWR(KPL_IOC_MAGIC, 0x00, struct kpl_info)
#define KPL_IOC_IPI _IOWR(KPL_IOC_MAGIC, 0x01, struct kpl_ipi_req)
#define KPL_IOC_CPUMASK _IOWR(KPL_IOC_MAGIC, 0x02, struct kpl_cpumask_req)
/* 0x40..0x4f: reserved for the mmu notifier probe. */

/* ---- mmu notifier probe (kmod/notifier.c) ------------------------------
 * KPL_IOC_NOTIFIER: one synchronous run. The module registers nr_notifiers
 * mmu_interval_notifiers over the caller's own buffer (notifier i covers
 * [addr + i*stride, + range_len)), starts nr_readers kthreads pinned to
 * cpus[i] (reader i reads notifier i % nr_notifiers), lets them run the
 * read_begin -> work -> driver lock -> read_retry -> commit loop for
 * duration_ms while other threads of the caller invalidate the buffer,
 * then stops them and removes the notifiers before returning. Registration
 * and removal are outside the timed window. A signal ends the run early
 * (-EINTR, counts so far still copied out). */
#define KPL_FEAT_NOTIFIER	(1U << 2)
/* The module was built with CONFIG_HMM_MIRROR: work_kind KPL_NT_WORK_HMM. */
#define KPL_FEAT_NOTIFIER_HMM	(1U << 3)
#define KPL_NT_MAX_NOTIFIERS	100000U
#define KPL_NT_MAX_READERS	64U
#define KPL_NT_MAX_WORK_NS	10000000U	/* 10 ms busy section */
#define KPL_NT_EVENTS		16U		/* enum kpl_nt_event slots */
#define KPL_NT_MAX_HMM_BYTES	(64U << 20)	/* range_len cap for KPL_NT_WORK_HMM */

/* invalidations[] slots: the kernel's enum mmu_notifier_event mapped by
 * name (its values are not ABI); a kind this module does not know is OTHER. */
enum kpl_nt_event {
	KPL_NT_EV_UNMAP = 0,		/* munmap, mremap */
	KPL_NT_EV_CLEAR,		/* MADV_DONTNEED/FREE, reclaim, migration, THP split */
	KPL_NT_EV_PROTECTION_VMA,	/* mprotect, NUMA balancing hinting faults */
	KPL_NT_EV_PROTECTION_PAGE,	/* fork write-protect */
	KPL_NT_EV_SOFT_DIRTY,		/* clear_refs */
	KPL_NT_EV_RELEASE,		/* exit */
	KPL_NT_EV_MIGRATE,
	KPL_NT_EV_EXCLUSIVE,
	KPL_NT_EV_OTHER = KPL_NT_EVENTS - 1,
};

/* The "device work" of a reader between read_begin and the driver lock. */
enum kpl_nt_work {
	KPL_NT_WORK_BUSY = 0,	/* busy loop of work_ns */
	KPL_NT_WORK_HMM = 1,	/* hmm_range_fault of the reader's whole range under
				 * mmap_read_lock (faulting pages in, read only), then
				 * work_ns busy; -EBUSY from it counts as a retry */
};

struct kpl_nt_reader_stats {
	__u64 attempts;		/* read_begin calls */
	__u64 successes;	/* commits */
	__u64 retries;		/* read_retry said the range changed */
};

struct kpl_nt_req {
	__u32 size;		/* (in) sizeof(struct kpl_nt_req) */
	__u32 version;		/* (in) KPL_UAPI_VERSION */
	__u64 addr;		/* (in) start of the caller's buffer (page aligned) */
	__u64 range_len;	/* (in) bytes per notifier, page multiple */
	__u64 stride;		/* (in) bytes between notifier starts (0: all overlap) */
	__u32 nr_notifiers;	/* (in) 1..KPL_NT_MAX_NOTIFIERS */
	__u32 nr_readers;	/* (in) 0..KPL_NT_MAX_READERS */
	__u32 work_ns;		/* (in) busy "device work" per attempt, <= KPL_NT_MAX_WORK_NS */
	__u32 duration_ms;	/* (in) 1..KPL_MAX_MS */
	__u32 hist_len;		/* (in) entries of every histogram buffer, 1..KPL_MAX_HIST_LEN */
	__u32 work_kind;	/* (in) enum kpl_nt_work (HMM: range_len <= KPL_NT_MAX_HMM_BYTES) */
	__u64 cpus;		/* (in) user pointer, __s32[nr_readers] online CPUs */
	__u64 reader_stats;	/* (in) user pointer or 0, kpl_nt_reader_stats[nr_readers] (out) */
	__u64 hist_retries;	/* (in) ptr or 0: retries per success (count, not ns) */
	__u64 hist_begin_wait;	/* (in) ptr or 0: ns spent in mmu_interval_read_begin */
	__u64 hist_commit;	/* (in) ptr or 0: ns from first read_begin to commit */
	__u64 hist_invalidate;	/* (in) ptr or 0: ns in our invalidate callback */
	__u64 ready;		/* (in) ptr or 0 to a __u32 the module sets to 1 when the
				 * window opens (notifiers registered, readers running)
				 * and to 2 when it closes */
	__u64 overflow[4];	/* (out) in the order of the four histograms */
	__u64 invalidations[KPL_NT_EVENTS]; /* (out) callbacks by enum kpl_nt_event */
	__u64 inval_full;	/* (out) callbacks whose range covered the whole interval */
	__u64 inval_partial;	/* (out) callbacks that overlapped only part of it */
	__u64 inval_nonblock_fail; /* (out) !blockable and trylock failed: returned false */
	__u64 attempts, successes, retries; /* (out) sums over readers */
	__u64 elapsed_ns;	/* (out) timed window */
	__u64 work_errors;	/* (out) HMM: hmm_range_fault failed other than -EBUSY (e.g.
				 * -EFAULT while the range is unmapped); such attempts
				 * go on to the lock and read_retry like the others */
	__u64 readers_moved;	/* (out) readers that CPU hotplug moved off their CPU:
				 * each stopped reading there (was reserved: zero in) */
	__u32 reserved[4];	/* (in) zero */
};

#define KPL_IOC_NOTIFIER _IOWR(KPL_IOC_MAGIC, 0x40, struct kpl_nt_req)
/* ---- end mmu notifier probe -------------------------------------------- */

#endif /* KPERFLAB_UAPI_H */
